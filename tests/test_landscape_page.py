"""The loss-landscape page (AppTest): every batch size racing on one surface, played in the browser."""

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from gd_core.science.landscape import LandscapeConfig, make_landscape
from ui.animation import MAX_FRAMES, PLAY_MENU

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Loss_landscape.py")


LAZY = ("ls_open_batch", "ls_open_losses")  # the expanders of the mini-batch view and the loss-per-step chart


def start(open_lazy: bool = True) -> AppTest:
    """The page after its first run; with `open_lazy`, its lazy expanders opened (what a click on each does)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key in LAZY if open_lazy else ():
        at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_run_draws_the_race_alone_and_each_lazy_section_once_opened():
    at = start(open_lazy=False)
    (race,) = at.get("plotly_chart")
    assert json.loads(race.proto.spec)["frames"] and "ls_step" not in [s.key for s in at.slider]  # no view yet
    at.session_state["ls_open_batch"] = True
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2 and at.slider(key="ls_step").value == 0
    assert "step 0" in json.loads(at.get("plotly_chart")[1].proto.spec)["layout"]["title"]["text"]
    at.session_state["ls_open_losses"] = True
    at.run()
    assert not at.exception
    race1, _, losses = (json.loads(el.proto.spec) for el in at.get("plotly_chart"))
    assert race1 == json.loads(race.proto.spec)
    assert {m["name"] for m in losses["layout"]["updatemenus"]} == {PLAY_MENU, "scale"}


def test_race_chart_plays_every_batch_size_on_one_surface():
    at = start()
    race, batch, losses = (json.loads(el.proto.spec) for el in at.get("plotly_chart"))
    ls = make_landscape(LandscapeConfig(batch_sizes=(1, 16, 0)))  # the page's defaults
    menus = {m["name"]: m for m in race["layout"]["updatemenus"]}
    assert [b["label"] for b in menus[PLAY_MENU]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    frames = race["frames"]
    assert 2 <= len(frames) <= MAX_FRAMES and frames[-1]["name"] == "t60"  # 60 steps: w_0..w_60
    names = [t.get("name") for t in race["data"]]
    paths = [i for i, n in enumerate(names) if n in ("SGD (B=1)", "B=16") or str(n).startswith("full batch")]
    markers = [i for i, n in enumerate(names) if str(n).startswith("now: ")]
    assert len(paths) == len(markers) == 3 and frames[0]["traces"] == paths + markers
    last = frames[-1]["data"]
    for j, (_, tr) in enumerate(sorted(ls.trajectories.items())):  # the last frame: each whole path
        np.testing.assert_allclose(decode(last[j]["y"]), tr.weights[:, 1])
        assert decode(last[3 + j]["x"])[0] == tr.weights[-1, 0]
    assert [len(decode(d["y"])) for d in frames[10]["data"][:3]] == [int(frames[10]["name"][1:]) + 1] * 3
    assert "frames" not in batch or not batch["frames"]  # the one-step view is drawn by the server
    assert {m["name"] for m in losses["layout"]["updatemenus"]} == {PLAY_MENU, "scale"}


def decode(v) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array {"dtype", "bdata"} (base64)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.asarray(v, dtype=float)


def test_step_slider_redraws_the_mini_batch_view_not_the_race():
    at = start()
    race0, batch0, _ = (el.proto.spec for el in at.get("plotly_chart"))
    at.slider(key="ls_step").set_value(12).run()
    assert not at.exception
    race1, batch1, _ = (el.proto.spec for el in at.get("plotly_chart"))
    assert race1 == race0 and batch1 != batch0
    assert "step 12" in json.loads(batch1)["layout"]["title"]["text"]
