"""benchmarks/bench_load.py's floor page runs on this checkout: the home page's run through ui.cache, one chart of
it. No timing assertions."""

from streamlit.testing.v1 import AppTest

from benchmarks import bench_load


def test_the_floor_page_draws_the_home_run_as_one_chart():
    at = AppTest.from_string(bench_load.FLOOR_PAGE, default_timeout=120)
    for k, v in bench_load.HOME_QUERY.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and "chart_loss" in charts[0].proto.id


def test_repeats_are_checked_and_give_the_median_of_each_repeats_ratio(monkeypatch, capsys):
    import contextlib

    import pytest

    with pytest.raises(SystemExit):
        bench_load.main(["--repeats", "0"])
    assert "--repeats must be an integer in [1, 20]; got 0" in capsys.readouterr().err

    # a fake server whose CPU per scenario is scripted: repeats of (1 session, 10 sessions)
    seconds = iter([1.0, 1.5, 2.0, 2.4, 1.0, 1.2])  # ratios 1.5x, 1.2x, 1.2x
    monkeypatch.setattr(bench_load, "server", lambda script: contextlib.nullcontext((0, None)))

    class FakeUsage:
        def __init__(self, proc):
            self.peak_mb = 1.0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.cpu_s = next(seconds)

    monkeypatch.setattr(bench_load, "Usage", FakeUsage)
    monkeypatch.setattr(bench_load, "run_sessions", lambda port, queries, timeout: [0.1] * len(queries))
    lines = bench_load.load_part([1, 10], 60, ("identical",), repeats=3)
    assert sum(line.startswith("| ") and "identical" in line for line in lines) == 6
    assert ("- N = 10: server CPU identical 1.20x (median of 3: 1.20-1.50x) that of one session; each further "
            "session identical 44 ms (median of 3: 22-56 ms)") in lines
