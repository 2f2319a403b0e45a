"""Every preset's caption (`look_for`) is a claim about its numbers: each is checked here on a real run of the
preset's config, and each preset opens on the view its lesson needs (ui.presets.preset_view). A new preset
without a claim test fails `test_every_preset_has_a_claim_test`."""

import numpy as np
import pandas as pd
import pytest

from gd_core import build_dataset, make_problem, run_experiment
from gd_core.science.lr_sweep import hessian_eigenvalues
from ui import form_state
from ui.presets import PRESETS, VIEW_DEFAULTS, preset_view


@pytest.fixture(scope="module")
def logs():
    cache: dict[str, pd.DataFrame] = {}

    def get(key: str) -> pd.DataFrame:
        if key not in cache:
            cache[key] = run_experiment(PRESETS[key].config).log
        return cache[key]
    return get


def _runs(log: pd.DataFrame) -> dict[int, pd.DataFrame]:
    return {int(b): g.sort_values("step").reset_index(drop=True) for b, g in log.groupby("batch_size")}


def _at_step(g: pd.DataFrame, step: int, metric: str = "train_loss") -> float:
    (value,) = g.loc[g["step"] == step, metric]  # measured there, not interpolated
    return float(value)


def claim_three_loops(log: pd.DataFrame) -> None:
    runs = _runs(log)
    n = max(runs)  # full batch
    sgd, b32, b256, full = runs[1], runs[32], runs[256], runs[n]
    # per epoch: after the same 10 epochs the smaller the batch, the further it got; full batch stays highest
    final = [float(runs[b]["train_loss"].iloc[-1]) for b in sorted(runs)]
    assert final == sorted(final) and final[0] < 0.6 * final[-1]
    # 800 updates an epoch against one
    assert sgd["step"].iloc[-1] == 800 * full["step"].iloc[-1] == 8000
    # per update: B=32, 256 and full batch fall together over full batch's 10 updates (within 2%) ...
    for k in range(1, 11):
        for g in (b32, b256):
            assert _at_step(g, k) == pytest.approx(_at_step(full, k), rel=0.02)
    # ... and SGD's one-example steps start out behind them and wander (measured at every one of these updates)
    assert _at_step(sgd, 1) > _at_step(full, 1) and _at_step(sgd, 2) > _at_step(full, 2)
    wander = max(abs(_at_step(sgd, k) - _at_step(full, k)) for k in range(1, 11))
    together = max(abs(_at_step(b32, k) - _at_step(full, k)) for k in range(1, 11))
    assert wander > 3 * together


def claim_notes_scale(log: pd.DataFrame) -> None:
    (g,) = _runs(log).values()
    steps = int(g["step"].iloc[-1])
    assert 100 < steps < 1000 and g["epoch"].iloc[-1] == pytest.approx(1.0)  # hundreds of updates, one epoch
    full_scale = PRESETS["notes_scale"].full_scale
    assert full_scale.n_train() // 256 > 1000  # thousands at 1.2M
    drop = g["train_loss"].iloc[0] - g["train_loss"].iloc[-1]
    quarter = g.loc[g["epoch"] <= 0.25, "train_loss"].iloc[-1]
    assert g["train_loss"].iloc[0] - quarter > 0.8 * drop  # mostly down a quarter of the way in


def claim_ill_conditioned(log: pd.DataFrame) -> None:
    cfg = PRESETS["ill_conditioned"].config
    ds = build_dataset(cfg)
    problem = make_problem("least_squares", ds.n_features)
    eig = hessian_eigenvalues(problem, ds.X_train)
    assert cfg.lrs[0] < 2 / eig[-1] == pytest.approx(0.019, rel=0.05)
    assert 50 < eig[-1] / eig[0] < 200  # kappa ~ 100
    runs = _runs(log)
    n = max(runs)
    assert runs[1]["diverged"].any()  # B=1 diverges
    assert not any(runs[b]["diverged"].any() for b in runs if b > 1)
    A = np.c_[ds.X_train, np.ones(ds.n_train)]
    optimum = problem.loss(np.linalg.lstsq(A, ds.y_train, rcond=None)[0], ds.X_train, ds.y_train)
    excess = {b: float(runs[b]["train_loss"].iloc[-1]) - optimum for b in runs if b > 1}
    # after the same 50 epochs full batch is still highest, several times further from the optimum than B=256
    assert max(excess, key=excess.get) == n and excess[n] > 5 * excess[256]
    # crawling: still above the optimum by > 20% of the noise floor, which a log y axis shows
    assert excess[n] > 0.2 * optimum


def claim_redundant(log: pd.DataFrame) -> None:
    runs = _runs(log)
    n = max(runs)
    b32, full = runs[32], runs[n]
    assert n == 2000 and n / 32 > 60  # 1/60 of the cost per update
    for k in range(1, int(full["step"].iloc[-1]) + 1):  # per update they fall together (within 2%)
        assert _at_step(b32, k) == pytest.approx(_at_step(full, k), rel=0.02)
    # against examples seen: with full batch's whole budget B=32 gets far lower
    assert b32["train_loss"].iloc[-1] < 0.5 * full["train_loss"].iloc[-1]
    assert b32["examples_seen"].iloc[-1] == pytest.approx(full["examples_seen"].iloc[-1], rel=0.01)


def claim_noisy_labels(log: pd.DataFrame) -> None:
    runs = _runs(log)
    small, full = runs[16], runs[max(runs)]
    v, t = small["val_loss"].to_numpy(), small["train_loss"].to_numpy()
    best = int(np.nanargmin(v))
    assert 20 < small["epoch"].iloc[best] < 100  # turns up after ~50 epochs
    assert v[-1] > 1.3 * v[best]  # visibly: 30% above its lowest
    assert t[-1] < 0.9 * t[best]  # while the training loss keeps falling
    fv = full["val_loss"].to_numpy()
    assert fv[-1] < 1.1 * np.nanmin(fv)  # full batch has not started to
    assert full["step"].iloc[-1] == 300


CLAIMS = {"three_loops": claim_three_loops, "notes_scale": claim_notes_scale,
          "ill_conditioned": claim_ill_conditioned, "redundant": claim_redundant,
          "noisy_labels": claim_noisy_labels}


def test_every_preset_has_a_claim_test():
    assert set(CLAIMS) == set(PRESETS), "a preset's caption is a claim: add its check to CLAIMS"


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_caption_holds_on_its_numbers(key, logs):
    if key not in CLAIMS:
        pytest.fail(f"no claim test for preset {key!r}: add one to CLAIMS")
    CLAIMS[key](logs(key))


VIEWS = {"ill_conditioned": {"view_log_y": True}, "noisy_labels": {"view_metrics": True}}


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_opens_on_the_view_its_lesson_needs(key):
    assert preset_view(key) == {**VIEW_DEFAULTS, **VIEWS.get(key, {})}
    state = {"cfg_preset": key, "view_log_y": True, "view_metrics": True}  # a view left by the last preset
    form_state.on_preset(state)
    assert {k: state[k] for k in VIEW_DEFAULTS} == preset_view(key)
    if "log y" in PRESETS[key].look_for:
        assert preset_view(key)["view_log_y"]


def test_a_preset_view_rejects_unknown_keys(monkeypatch):
    bad = PRESETS["redundant"]._replace(view=(("view_zoom", 2),))
    monkeypatch.setitem(PRESETS, "redundant", bad)
    with pytest.raises(ValueError, match="unknown view keys"):
        preset_view("redundant")
