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
