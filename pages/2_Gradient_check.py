"""Gradient check: analytic gradients against centered differences (cs231n "Optimization 1")."""

import pandas as pd
import streamlit as st

from gd_core import PROBLEMS
from gd_core.science.gradient_checks import DATASET_FOR, gradcheck_setup, gradcheck_table, h_sweep, time_gradients
from ui import nav
from ui.gradcheck_charts import h_sweep_chart, rel_error_chart, table_markdown

H_CHOICES = [10.0 ** -k for k in range(1, 11)]

st.set_page_config(page_title="Gradient check · Gradient Descent Lab", layout="wide")
nav.page_links()
st.title("Gradient check")
st.caption("Compare each problem's analytic gradient with the centered difference "
           "(f(w + h e_i) - f(w - h e_i)) / 2h, one parameter at a time, by the relative error "
           "|a - n| / max(|a|, |n|). Small on purpose: 50 examples, at most 5 features and 12 hidden units "
           "(at most ~100 parameters), because the numerical gradient costs 2 loss evaluations per parameter.")

c = st.columns(4)
problem = c[0].selectbox("Problem", PROBLEMS, index=PROBLEMS.index("softmax"), key="gc_problem",
                         help="Data: " + ", ".join(f"{p} on {d}" for p, d in DATASET_FOR.items()))
n_features = c[1].slider("Features", 2, 5, 3, key="gc_features")
hidden = c[2].slider("MLP hidden units", 2, 12, 8, key="gc_hidden", disabled=problem != "mlp")
reg = c[3].select_slider("L2 reg", [0.0, 1e-3, 1e-2, 1e-1, 1.0], value=0.0, key="gc_reg")
c = st.columns(3)
h = c[0].select_slider("Step h", H_CHOICES, value=1e-5, format_func=lambda v: f"{v:.0e}", key="gc_h")
dtype = c[1].radio("Precision", ["float64", "float32"], horizontal=True, key="gc_dtype")
point = c[2].radio("Check at", ["random", "init"], horizontal=True, key="gc_point",
                   format_func={"random": "a random point", "init": "the initial weights"}.get,
                   help="At the initial weights the biases are 0 and some gradients are exactly 0: "
                        "the relative error is then round-off divided by round-off (a false alarm).")

prob, w, X, y = gradcheck_setup(problem, n_features, hidden=hidden, reg=reg, dtype=dtype, point=point)
table = gradcheck_table(prob, w, X, y, h)
worst = table.sort_values("rel_error", ascending=False)
verdict = worst["verdict"].iloc[0]
st.subheader(f"{problem}: {prob.n_params} parameters, {dtype}, h = {h:.0e}: worst is {verdict}")
st.plotly_chart(rel_error_chart(table, f"Relative error per parameter (max {worst['rel_error'].iloc[0]:.1e})"),
                key="gc_rel_error")
st.caption("Thresholds (cs231n, float64, smooth losses): below 1e-7 good, below 1e-4 ok, "
           "below 1e-2 uncomfortable, above 1e-2 probably wrong. An exact 0 is drawn at 1e-17.")
st.markdown("**Worst parameters**")
st.markdown(table_markdown(worst.head(8)))  # Markdown, not st.dataframe: no grid JavaScript beside the first chart

st.header("The step h: truncation vs round-off")
sweeps = [h_sweep(*gradcheck_setup(problem, n_features, hidden=hidden, reg=reg, dtype=dt, point=point))
          .assign(dtype=dt) for dt in ("float64", "float32")]
st.plotly_chart(h_sweep_chart(pd.concat(sweeps), h), key="gc_h_sweep")
st.caption("Large h: the centered difference has error O(h^2) (zero for a quadratic loss such as least "
           "squares, and for piecewise-linear ones such as the SVM unless a probe crosses a kink). Small h: "
           "the loss is rounded to ~eps relative (2e-16 in float64, 1e-7 in float32) and dividing by 2h "
           "amplifies that, so the error grows like eps/h. The best h is near eps^(1/3): ~1e-5 in float64, "
           "~1e-2 in float32, where no h reaches 'good'.")

st.header("Cost")
t = time_gradients(prob, w, X, y, h)
c = st.columns(3)
c[0].metric("Analytic loss_and_grad", f"{t['analytic_ms']:.3f} ms")
c[1].metric("Numerical gradient", f"{t['numerical_ms']:.2f} ms", help=f"{t['loss_evaluations']} loss evaluations")
c[2].metric("Numerical / analytic", f"{t['ratio']:.0f}x")
st.caption(f"The numerical gradient evaluates the loss 2 x {prob.n_params} = {t['loss_evaluations']} times; "
           "the analytic one costs about one forward and one backward pass whatever the number of parameters. "
           "That is why training uses the analytic gradient and the numerical one only checks it.")

st.info("**Kinks cause false alarms.** ReLU (mlp) and the hinge (svm) are not differentiable at 0. When a "
        "probe w +/- h crosses a kink the centered difference mixes two slopes and the relative error jumps, "
        "although the analytic (sub)gradient is right. Try the mlp or svm with h = 1e-1 or 1e-2. Fewer "
        "examples mean fewer kinks to cross, which is one reason to check on a small batch (cs231n).")
