"""Gradient check: analytic gradients against centered differences (cs231n "Optimization 1")."""

import pandas as pd
import streamlit as st

from gd_core import PROBLEMS
from gd_core.science.gradient_checks import DATASET_FOR, gradcheck_setup, gradcheck_table, h_sweep, time_gradients
from ui import nav
from ui.gradcheck_charts import h_sweep_chart, rel_error_chart, table_markdown, verdict_text
from ui.i18n import problem_data_help, t

H_CHOICES = [10.0 ** -k for k in range(1, 11)]

st.set_page_config(page_title=t("gradcheck.page_title"), layout="wide")
nav.page_links()
st.title(t("gradcheck.title"))
st.caption(t("gradcheck.intro"))

c = st.columns(4)
problem = c[0].selectbox(t("form.problem"), PROBLEMS, index=PROBLEMS.index("softmax"), key="gc_problem",
                         help=problem_data_help(DATASET_FOR))
n_features = c[1].slider(t("form.n_features"), 2, 5, 3, key="gc_features")
hidden = c[2].slider(t("form.hidden"), 2, 12, 8, key="gc_hidden", disabled=problem != "mlp")
reg = c[3].select_slider(t("form.reg"), [0.0, 1e-3, 1e-2, 1e-1, 1.0], value=0.0, key="gc_reg")
c = st.columns(3)
h = c[0].select_slider(t("gradcheck.h"), H_CHOICES, value=1e-5, format_func=lambda v: f"{v:.0e}", key="gc_h")
dtype = c[1].radio(t("gradcheck.precision"), ["float64", "float32"], horizontal=True, key="gc_dtype")
point = c[2].radio(t("gradcheck.point"), ["random", "init"], horizontal=True, key="gc_point",
                   format_func={"random": t("gradcheck.point_random"), "init": t("gradcheck.point_init")}.get,
                   help=t("gradcheck.point_help"))

prob, w, X, y = gradcheck_setup(problem, n_features, hidden=hidden, reg=reg, dtype=dtype, point=point)
table = gradcheck_table(prob, w, X, y, h)
worst = table.sort_values("rel_error", ascending=False)
verdict = worst["verdict"].iloc[0]
st.subheader(t("gradcheck.headline", problem=problem, n=prob.n_params, dtype=dtype, h=f"{h:.0e}",
               verdict=verdict_text(verdict)))
st.plotly_chart(rel_error_chart(table, t("gradcheck.rel_error_title", max=worst["rel_error"].iloc[0])),
                key="gc_rel_error")
st.caption(t("gradcheck.thresholds"))
st.markdown(t("gradcheck.worst"))
st.markdown(table_markdown(worst.head(8)))  # Markdown, not st.dataframe: no grid JavaScript beside the first chart

st.header(t("gradcheck.h_header"))
sweeps = [h_sweep(*gradcheck_setup(problem, n_features, hidden=hidden, reg=reg, dtype=dt, point=point))
          .assign(dtype=dt) for dt in ("float64", "float32")]
st.plotly_chart(h_sweep_chart(pd.concat(sweeps), h), key="gc_h_sweep")
st.caption(t("gradcheck.h_caption"))

st.header(t("gradcheck.cost_header"))
times = time_gradients(prob, w, X, y, h)
c = st.columns(3)
c[0].metric(t("gradcheck.cost_analytic"), f"{times['analytic_ms']:.3f} ms")
c[1].metric(t("gradcheck.cost_numerical"), f"{times['numerical_ms']:.2f} ms",
            help=t("gradcheck.cost_evaluations", n=times["loss_evaluations"]))
c[2].metric(t("gradcheck.cost_ratio"), f"{times['ratio']:.0f}x")
st.caption(t("gradcheck.cost_caption", n_params=prob.n_params, n=times["loss_evaluations"]))

st.info(t("gradcheck.kinks"))
