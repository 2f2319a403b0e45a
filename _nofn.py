"""Gradient Descent Lab, home page: full-batch, mini-batch and stochastic gradient descent side by side.

Glue only: widgets (ui.controls; their state in ui.form_state) -> ExperimentConfig -> cached engine run
(ui.cache) -> DataFrames -> figures (ui.charts, restyled by ui.chart_controls). The URL carries the config that
was run (ui.share).
"""

import streamlit as st

from gd_core import summarize, to_csv
from gd_core.science.regression import regression_metrics
from ui import cache, chart_controls, charts, controls, data_charts, form_state, i18n, nav, presets, share
from ui.colors import batch_size_label
from ui.figure_cache import cached_figure, cached_frame, cached_text
from ui.i18n import t
from ui.text import md_escape

st.set_page_config(page_title=t("home.page_title"), page_icon="📉", layout="wide")
nav.page_links()
state = st.session_state
form_state.init_state(state, st.query_params)

with st.sidebar:
    st.header(t("home.sidebar_header"))
    controls.preset_picker()
    csv_bytes, columns = controls.csv_upload()
    form_place = st.container()  # the form (draw_form), drawn before the run or after the loss chart
    st.caption(t("home.sidebar_caption"))

st.title(t("home.title"))
st.markdown(t("home.intro"))
# Unicode in Markdown, not st.latex: KaTeX is more files for a cold browser to fetch before the chart
# (measured: benchmarks/DASHBOARD.md, benchmarks/results/2026-12-07-code-comments.md)
st.markdown(t("home.rules"))

for message in state["home_messages"]:
    # messages quote link values: shown as text, never as Markdown
    st.warning(t("home.link_message", message=md_escape(message)))
if state["home_error"]:
    st.error(t("home.not_run", error=md_escape(state["home_error"])))
config = state["home_config"]
preset_key = presets.preset_for(config)
preset = presets.PRESETS.get(preset_key)
if preset:
    st.info(t("home.preset_info", title=t(f"preset.{preset_key}.title"), look_for=t(f"preset.{preset_key}.look_for")))
    if preset.full_scale:
        st.caption(t("home.capped", asked=presets.NOTES_SCALE_SAMPLES, capped=config.n_samples))
        st.code(presets.cli_command(preset.full_scale), language="bash")

run_csv = csv_bytes if config.dataset == "csv" else None
# A stored run: the form's ~20 widgets are drawn after the loss chart, so that a cold browser renders them while it
# fetches the chart's code (benchmarks/DASHBOARD.md). A run to compute: the form first, usable meanwhile (its Run
# stops the computation).
form_after_chart = cache.stored(share.run_config(config), run_csv)


if not form_after_chart:
    with form_place:
        controls.experiment_form(columns)
if config.dataset == "csv" and csv_bytes is None:
    if not state.get("_csv_problem"):  # a bad upload has its own message in the sidebar
        st.warning(t("home.csv_missing"))
else:
    try:
        results, log_digest = cache.session_run(share.run_config(config), run_csv, label=t("home.running"))
        state["home_last"] = (config, results, log_digest)
        for note in share.fitted_notes(config, results.config, charts.infer_n_train(results.log)):
            # a CSV's config fitted to its data, known once read
            st.info(t("home.fitted_note", message=md_escape(note)))
    except ValueError as e:  # ConfigError, CSVError: message names the field / column / row
        st.error(t("home.could_not_run", error=md_escape(e)))
if "home_last" not in state:
    if form_after_chart:
        with form_place:
            controls.experiment_form(columns)
    st.stop()
config, results, log_digest = state["home_last"]
share.sync_query_params(st.query_params, config)
log = results.log
stopped = results.summary["run_id"].to_numpy()[results.summary["status"].to_numpy() == "time_limit"].tolist()
n_train = charts.infer_n_train(log)  # None when every run stopped at its start
not_started = results.config.n_runs(n_train) - len(results.summary) if n_train else 0
if stopped or not_started:
    st.warning(t("home.time_limit", message=md_escape(
        share.time_limit_note(stopped, share.run_config(config).time_limit_s, not_started))))

view = chart_controls.view_controls(len(results.config.seeds))
style = dict(log_y=view["log_y"], smoothing=view["smoothing"], band=view["band"])
st.subheader(t("home.loss_header"))
st.caption(t("home.loss_caption"))
# built once per (log, options) for all sessions (ui/figure_cache.py): plotly's validation on every rerun otherwise;
# the log's digest, the store's key, is made once per stored run (ui.cache.session_run)
# playable: Play / Pause replay the curves in the browser (ui/animation.py), no rerun per frame
st.plotly_chart(cached_figure("loss_panels", log, charts.playable_loss_panels, df_digest=log_digest,
                              show_batch_loss=view["show_batch_loss"], **style), key="chart_loss")
if form_after_chart:
    with form_place:
        controls.experiment_form(columns)
st.subheader(t("home.metrics_header"))
# Drawn on request: a second figure (20 traces) on the first paint costs a cold browser more than it shows at a
# glance (benchmarks/DASHBOARD.md). The toggle keeps its state across reruns.
if st.toggle(t("home.metrics_toggle"), key="view_metrics"):
    st.caption(t("home.metrics_caption"))
    metric_x = chart_controls.metric_x_picker()
    st.plotly_chart(cached_figure("metric_grid", log, charts.metric_grid, df_digest=log_digest, x=metric_x,
                                  log_y=view["log_y"], band=view["band"]), key="chart_metrics")

st.subheader(t("home.summary_header"))
target, metric = chart_controls.target_controls(results.summary, config)
summary = cached_frame("summary", log, summarize, df_digest=log_digest, target_loss=target, metric=metric)
if config.problem == "least_squares":  # RMSE in the target's units and R², in the table below and the CSV
    summary = regression_metrics(summary, cache.regression_stats(results.config, csv_bytes), results.config.reg)
# Markdown, not st.table / st.dataframe / st.code: each pulls a large JS bundle into a cold browser for a 4-row
# table and one line of text (sizes: benchmarks/results/2026-12-07-code-comments.md).
summary_md = cached_text("summary_table", summary, charts.summary_table_markdown, n_train=n_train)
# A wide table scrolls sideways inside the column instead of running past it; Korean breaks between words only.
# A style rule, not the table wrapped in HTML: Markdown with HTML in it makes a cold browser fetch a 190 KB parser
# (rehype-raw) before it shows the page's chart.
with st.container(key="home_summary"):
    st.markdown(summary_md)
st.html("<style>.st-key-home_summary table {display: block; overflow-x: auto; word-break: keep-all}</style>")
if config.problem == "least_squares":
    labels = [batch_size_label(int(b), n_train) for b in summary["batch_size"]]
    st.markdown(data_charts.regression_markdown(summary, labels))
    st.caption(data_charts.regression_caption(results.config))

st.subheader(t("home.share_header"))
st.caption(t("home.share_caption"))
st.markdown(f"`{share.query_string(config, i18n.current())}`")
d1, d2, d3 = st.columns(3)
d1.download_button(t("home.download_log"), lambda: to_csv(log), "run_log.csv", "text/csv", key="dl_log",
                   on_click="ignore")
d2.download_button(t("home.download_summary"), lambda: to_csv(summary), "summary.csv", "text/csv", key="dl_summary",
                   on_click="ignore")
d3.download_button(t("home.download_config"), config.to_json(), "config.json", "application/json", key="dl_config",
                   on_click="ignore", help="python -m gd_core run --config config.json --out log.csv")
