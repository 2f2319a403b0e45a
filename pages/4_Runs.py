"""Runs: upload run logs exported earlier (the app's download or `python -m gd_core run --out`) and compare."""

import streamlit as st

from gd_core import run_experiment, to_csv
from ui import charts, nav, runs
from ui.text import md_escape

st.set_page_config(page_title="Runs · Gradient Descent Lab", layout="wide")
nav.page_links()
st.title("Runs")


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def read_log(name: str, data: bytes):
    return runs.read_log(name, data)


@st.cache_data(max_entries=1, show_spinner="Running the example...")
def example_csv() -> bytes:
    # No st.* inside: a cached function that draws (e.g. a progress bar) cannot be replayed on a cache hit.
    return to_csv(run_experiment(runs.EXAMPLE_CONFIG).log).encode()


uploads = st.file_uploader("Run logs (CSV)", type="csv", accept_multiple_files=True, key="runs_upload",
                           help="Files from the home page's run-log download or `python -m gd_core run --out`.")
files = [(f.name, f.getvalue()) for f in uploads or []]
if not files:
    st.info("Upload one or several run logs to see the home page's charts again, overlaid: colour is the "
            "batch size, the line dash tells the files apart. No file at hand? Load a small example run.")
    if st.button("Load an example", key="runs_example_button"):
        st.session_state["runs_example"] = True
    if st.session_state.get("runs_example"):
        files = [("example.csv", example_csv())]

loaded = runs.load_logs(files, reader=read_log)
for name, error in loaded.errors:
    st.error(f"**{md_escape(name)}** could not be read: {md_escape(error)}")
if loaded.log is None:
    st.stop()
log = loaded.log
st.caption(f"{log['run_id'].nunique()} run(s) from {md_escape(', '.join(loaded.sources))}")

c1, c2, c3 = st.columns(3)
log_y = c1.toggle("Log y axis", key="runs_log_y")
show_batch_loss = c2.toggle("Mini-batch loss (faint)", key="runs_batch_loss")
metric_x = c3.selectbox("Metrics against", runs.X_AXES, key="runs_metric_x")
st.subheader("Training loss: per epoch, per update, per second")
st.plotly_chart(runs.overlay(charts.loss_panels, log, log_y=log_y, show_batch_loss=show_batch_loss),
                key="runs_loss")
st.subheader("Validation, accuracy and gradient norm")
st.plotly_chart(runs.overlay(charts.metric_grid, log, x=metric_x, log_y=log_y), key="runs_metrics")

st.subheader("Summary")
target = st.number_input("target train loss (steps / examples / seconds to first reach it)", min_value=0.0,
                         value=runs.default_target(log), format="%.4g",
                         key=f"runs_target_{'|'.join(loaded.sources)}_{len(log)}")  # new files, new default
st.dataframe(runs.summary_table(log, target), hide_index=True, key="runs_summary")
