"""Gradient Descent Lab, home page: full-batch, mini-batch and stochastic gradient descent side by side.

Glue only: widgets (ui.controls; their state in ui.form_state) -> ExperimentConfig -> cached engine run
(ui.cache) -> DataFrames -> figures (ui.charts, restyled by ui.chart_controls). The URL carries the config that
was run (ui.share).
"""

import streamlit as st

from gd_core import summarize, to_csv
from gd_core.science.regression import regression_metrics
from ui import cache, chart_controls, charts, controls, data_charts, form_state, nav, presets, share
from ui.colors import batch_size_label
from ui.figure_cache import cached_figure, cached_frame
from ui.text import md_escape

st.set_page_config(page_title="Gradient Descent Lab", page_icon="📉", layout="wide")
nav.page_links()
state = st.session_state
form_state.init_state(state, st.query_params)

with st.sidebar:
    st.header("Experiment")
    controls.preset_picker()
    csv_bytes, columns = controls.csv_upload()
    controls.experiment_form(columns)
    st.caption("Changes apply when you press **Run**; the chart toggles on the page apply at once.")

st.title("Gradient Descent Lab")
st.markdown("The same loss minimised three ways (cs231n, *Optimization*): each update uses the gradient of "
            "the loss on **all N** examples, on a **mini-batch of B**, or on **one** example.")
# Unicode in Markdown, not st.latex: KaTeX is 3 more files (~260 KB) for a cold browser to fetch before the chart,
# ~0.06-0.09x of the home page's load against the one-chart page in same-run A/Bs (benchmarks/DASHBOARD.md)
st.markdown("- **vanilla (full-batch) GD:** w ← w − η ∇L(w; all N examples)\n"
            "- **mini-batch GD:** w ← w − η ∇L(w; a batch of B examples)\n"
            "- **SGD:** mini-batch GD with B = 1")

for message in state["home_messages"]:
    st.warning(md_escape(message))  # messages quote link values: shown as text, never as Markdown
if state["home_error"]:
    st.error(f"Not run: {md_escape(state['home_error'])}. The last results stay on screen.")
config = state["home_config"]
preset = presets.PRESETS.get(presets.preset_for(config))
if preset:
    st.info(f"**{preset.title}.** {preset.look_for}")
    if preset.full_scale:
        st.caption(f"n_samples capped from {presets.NOTES_SCALE_SAMPLES:,} to {config.n_samples:,} on this "
                   "host; for the full scale run:")
        st.code(presets.cli_command(preset.full_scale), language="bash")

if config.dataset == "csv" and csv_bytes is None:
    if not state.get("_csv_problem"):  # a bad upload has its own message in the sidebar
        st.warning("This experiment uses an uploaded CSV: upload the file in the sidebar, pick the target, Run.")
else:
    try:
        results = cache.run(share.run_config(config), csv_bytes if config.dataset == "csv" else None,
                            label="Running the experiment")
        state["home_last"] = (config, results)
        for note in share.fitted_notes(config, results.config, charts.infer_n_train(results.log)):
            st.info(md_escape(note))  # a CSV's config fitted to its data, known once read
    except ValueError as e:  # ConfigError, CSVError: message names the field / column / row
        st.error(f"Could not run this experiment: {md_escape(e)}")
if "home_last" not in state:
    st.stop()
config, results = state["home_last"]
share.sync_query_params(st.query_params, config)
log = results.log
stopped = results.summary.loc[results.summary["status"] == "time_limit", "run_id"].tolist()
n_train = charts.infer_n_train(log)  # None when every run stopped at its start
not_started = results.config.n_runs(n_train) - len(results.summary) if n_train else 0
if stopped or not_started:
    st.warning(md_escape(share.time_limit_note(stopped, share.run_config(config).time_limit_s, not_started)))

view = chart_controls.view_controls()
style = dict(log_y=view["log_y"], smoothing=view["smoothing"], band=view["band"])
st.subheader("Training loss: per epoch, per update, per second")
st.caption("Each curve is the loss measured on the whole training set (or a fixed sample of it), never smoothed; "
           "dots mark measurements where they are sparse, and a gap means none there. x: a diverged run, where it "
           "stopped. On the log-scaled updates and time axes, the start (update 0, 0 s) sits at the left edge.")
# built once per (log, options) for all sessions (ui/figure_cache.py): ~160 ms of plotly validation a rerun otherwise
# playable: Play / Pause replay the curves in the browser (ui/animation.py), no rerun per frame
st.plotly_chart(cached_figure("loss_panels", log, charts.playable_loss_panels,
                              show_batch_loss=view["show_batch_loss"], **style), key="chart_loss")
st.subheader("Validation, accuracy and gradient norm")
# Drawn on request: a second figure (20 traces) on the first paint costs a cold browser more than it shows at a
# glance (benchmarks/DASHBOARD.md). The toggle keeps its state across reruns.
if st.toggle("Show validation loss, accuracy and gradient norm", key="view_metrics"):
    st.caption("Dotted: the training counterpart. Curves that part are over- (or under-) fitting.")
    metric_x = chart_controls.metric_x_picker()
    st.plotly_chart(cached_figure("metric_grid", log, charts.metric_grid, x=metric_x, log_y=view["log_y"],
                                  band=view["band"]), key="chart_metrics")

st.subheader("Summary")
target, metric = chart_controls.target_controls(results.summary, config)
summary = cached_frame("summary", log, summarize, target_loss=target, metric=metric)  # shared like the figures
if config.problem == "least_squares":  # RMSE in the target's units and R², in the table below and the CSV
    summary = regression_metrics(summary, cache.regression_stats(results.config, csv_bytes), results.config.reg)
# Markdown, not st.table / st.dataframe / st.code: those pull ~0.9 MB (table), ~1.4 MB (glide grid) and ~1.5 MB
# (syntax highlighter) of JS into a cold browser for a 4-row table and one line of text (benchmarks/DASHBOARD.md).
summary_md = charts.summary_markdown(charts.summary_table(summary, charts.infer_n_train(log)))
# a wide table scrolls sideways inside the column instead of running past it
st.markdown(f'<div style="overflow-x: auto">\n\n{summary_md}\n\n</div>', unsafe_allow_html=True)
if config.problem == "least_squares":
    labels = [batch_size_label(int(b), charts.infer_n_train(log)) for b in summary["batch_size"]]
    st.markdown(data_charts.regression_markdown(summary, labels))
    st.caption(data_charts.regression_caption(results.config))

st.subheader("Share and download")
st.caption("Append to this app's address to reproduce these runs exactly (only non-default fields; "
           "`?` alone means the defaults). The browser's address bar already holds it.")
st.markdown(f"`{share.query_string(config)}`")
d1, d2, d3 = st.columns(3)
d1.download_button("Run log (CSV)", lambda: to_csv(log), "run_log.csv", "text/csv", key="dl_log",
                   on_click="ignore")
d2.download_button("Summary (CSV)", lambda: to_csv(summary), "summary.csv", "text/csv", key="dl_summary",
                   on_click="ignore")
d3.download_button("Config (JSON)", config.to_json(), "config.json", "application/json", key="dl_config",
                   on_click="ignore", help="python -m gd_core run --config config.json --out log.csv")
