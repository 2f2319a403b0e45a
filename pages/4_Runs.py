"""Runs: upload run logs exported earlier (the app's download or `python -m gd_core run --out`) and compare."""

import streamlit as st

from gd_core import run_experiment, to_csv
from ui import charts, nav, runs
from ui.i18n import t
from ui.text import md_escape

st.set_page_config(page_title=t("runs.page_title"), layout="wide")
nav.page_links()
st.title(t("runs.title"))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def read_log(name: str, data: bytes):
    return runs.read_log(name, data)


@st.cache_data(max_entries=1, show_spinner=False)  # the caller's spinner speaks the session's language
def example_csv() -> bytes:
    # No st.* inside: a cached function that draws (e.g. a progress bar) cannot be replayed on a cache hit.
    return to_csv(run_experiment(runs.EXAMPLE_CONFIG).log).encode()


uploads = st.file_uploader(t("runs.upload"), type="csv", accept_multiple_files=True, key="runs_upload",
                           help=t("runs.upload_help"))
files = [(f.name, f.getvalue()) for f in uploads or []]
if not files:
    st.info(t("runs.intro"))
    if st.button(t("runs.example"), key="runs_example_button"):
        st.session_state["runs_example"] = True
    if st.session_state.get("runs_example"):
        with st.spinner(t("runs.running_example")):
            files = [("example.csv", example_csv())]

loaded = runs.load_logs(files, reader=read_log)
for name, error in loaded.errors:
    st.error(t("runs.unreadable", name=md_escape(name), error=md_escape(error)))
if loaded.log is None:
    st.stop()
log = loaded.log
st.caption(t("runs.loaded", n=log["run_id"].nunique(), files=md_escape(", ".join(loaded.sources))))

c1, c2, c3 = st.columns(3)
log_y = c1.toggle(t("view.log_y"), key="runs_log_y")
show_batch_loss = c2.toggle(t("view.batch_loss"), key="runs_batch_loss")
metric_x = c3.selectbox(t("view.metric_x"), runs.X_AXES, key="runs_metric_x")
st.subheader(t("home.loss_header"))
st.plotly_chart(runs.overlay(charts.loss_panels, log, log_y=log_y, show_batch_loss=show_batch_loss),
                key="runs_loss")
st.subheader(t("home.metrics_header"))
st.plotly_chart(runs.overlay(charts.metric_grid, log, x=metric_x, log_y=log_y), key="runs_metrics")

st.subheader(t("home.summary_header"))
target = st.number_input(t("runs.target"), min_value=0.0,
                         value=runs.default_target(log), format="%.4g",
                         key=f"runs_target_{'|'.join(loaded.sources)}_{len(log)}")  # new files, new default
st.dataframe(runs.summary_table(log, target), hide_index=True, key="runs_summary")
