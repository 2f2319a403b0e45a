"""Optimizers & learning rate: six update rules side by side, a learning-rate sweep, the 2/lambda_max limit."""

import pandas as pd
import streamlit as st

from gd_core import PROBLEMS, ExperimentConfig, build_dataset, make_problem
from gd_core.optim.optimizers import describe
from gd_core.science.gradient_checks import DATASET_FOR
from gd_core.science.lr_sweep import (
    DEFAULT_LRS,
    FINAL_SHARE,
    STABILITY_FACTORS,
    TOO_LOW_FRACTION,
    VARIANTS,
    classify_lr_curves,
    combine_variants,
    hessian_eigenvalues,
    lr_grid,
    stability_config,
    sweep_summary,
    variant_configs,
)
from ui import cache, nav
from ui.optimizer_charts import (
    UPDATE_RULES_LATEX,
    formula_rows,
    lr_sweep_chart,
    optimizer_curves_chart,
    stability_chart,
)

LR_CHOICES = [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
BATCHES = [1, 8, 32, 128, "full"]


def run_log(config_json: str) -> pd.DataFrame:
    """The run log of a config, from the shared run store (computed with a progress bar on a miss)."""
    return cache.run(ExperimentConfig.from_json(config_json)).log


st.set_page_config(page_title="Optimizers & learning rate · Gradient Descent Lab", layout="wide")
nav.page_links()
st.title("Optimizers & learning rate")
with st.form("opt_form"):
    c = st.columns(4)
    problem = c[0].selectbox("Problem", PROBLEMS, index=PROBLEMS.index("mlp"), key="opt_problem",
                             help="Data: " + ", ".join(f"{p} on {d}" for p, d in DATASET_FOR.items()))
    batch = c[1].select_slider("Batch size", BATCHES, value=32, key="opt_batch")
    epochs = c[2].slider("Epochs", 1, 20, 5, key="opt_epochs")
    kappa = c[3].select_slider("Condition number (least squares)", [1, 10, 100, 1000], value=10, key="opt_kappa")
    st.markdown("**Learning rate of each update rule**")
    c = st.columns(len(VARIANTS))
    lrs = {v: c[i].select_slider(v, LR_CHOICES, value=DEFAULT_LRS[v], key=f"lr_{v}", format_func="{:g}".format)
           for i, v in enumerate(VARIANTS)}
    c = st.columns(2)
    sweep_variant = c[0].selectbox("Sweep the learning rate of", list(VARIANTS), key="sweep_variant")
    center = c[1].select_slider("Sweep centre (7 rates over 4 decades)", LR_CHOICES, value=0.1,
                                key="sweep_center", format_func="{:g}".format)
    st.form_submit_button("Run", type="primary", key="opt_run")

base = ExperimentConfig(problem=problem, dataset=DATASET_FOR[problem], n_samples=1000, noise=0.2,
                        condition_number=float(kappa), batch_sizes=(batch,), budget=float(epochs),
                        n_checkpoints=50)
n_train = base.n_train()
b_label = f"full batch (B={n_train})" if batch == "full" else f"batch size B={batch}"
logs = {v: run_log(cfg.to_json()) for v, cfg in variant_configs(base, lrs).items()}
st.plotly_chart(optimizer_curves_chart(combine_variants(logs), b_label), key="opt_curves")
# Drawn once opened: KaTeX is ~260 KB of JavaScript and fonts a cold browser would load beside the first chart.
with st.expander("The six update rules as formulas", key="opt_formulas", on_change="rerun") as formulas:
    if formulas.open:
        for row in formula_rows(VARIANTS):  # one st.columns per row: a row's formulas start level
            for col, v in zip(st.columns(3), row, strict=False):
                col.markdown(f"**{v}**")
                col.latex(UPDATE_RULES_LATEX[v])
with st.expander("The rules exactly as the engine implements them (torch.optim's notation)"):
    st.markdown("\n".join(f"- **{o}**: `{describe(o)}`" for o in ("sgd", "adagrad", "rmsprop", "adam")))

st.header(f"Learning-rate sweep: {sweep_variant} at {b_label}")
sweep_cfg = variant_configs(base, {sweep_variant: center})[sweep_variant].replace(lrs=lr_grid(center, 4.0, 7))
sweep_log = run_log(sweep_cfg.to_json())
st.plotly_chart(lr_sweep_chart(sweep_log, classify_lr_curves(sweep_log),
                               f"{sweep_variant}, {b_label}: loss per learning rate"), key="opt_sweep")
st.caption(f"Verdicts read each run's final level, the median loss over its last {FINAL_SHARE:.0%} of steps (one "
           "noisy last point decides nothing): a run that diverges or ends above its starting loss is *too high*. "
           "Otherwise it is "
           f"*good* if its loss fell by at least {TOO_LOW_FRACTION:.0%} of the largest fall in the sweep; "
           "runs that fell less are *too low* below the best learning rate (too slow) and *too high* above "
           "it (quick at first, then stuck on a higher plateau), as in cs231n's picture.")

st.header("The stable step: full-batch GD diverges above 2/λ_max")
with st.form("limit_form"):
    c = st.columns(3)
    n_features = c[0].slider("Features", 1, 20, 5, key="lim_features")
    kappa_lim = c[1].select_slider("Condition number", [1, 10, 100, 1000], value=10, key="lim_kappa")
    steps = c[2].select_slider("Steps", [100, 300, 1000], value=300, key="lim_steps")
    st.form_submit_button("Run", key="lim_run")
lim_cfg = stability_config(n_features, float(kappa_lim), steps)
ds = build_dataset(lim_cfg)
eig = hessian_eigenvalues(make_problem("least_squares", ds.n_features), ds.X_train)
limit, fastest = 2 / eig[-1], 2 / (eig[-1] + eig[0])
lim_log = run_log(lim_cfg.replace(lrs=tuple(f * limit for f in STABILITY_FACTORS)).to_json())
st.plotly_chart(stability_chart(sweep_summary(lim_log), limit, fastest), key="opt_limit")
st.caption(f"L = |Xw + b - y|² / 2n has the constant Hessian H = [X,1]ᵀ[X,1]/n with λ_max = {eig[-1]:.4g}, "
           f"λ_min = {eig[0]:.4g} (κ = {eig[-1] / eig[0]:.3g}). Each step multiplies the error along an "
           "eigenvector by 1 - lr·λ, so full-batch GD converges iff lr < 2/λ_max and is fastest near "
           f"2/(λ_max+λ_min). Learning rates are {', '.join(f'{f:g}' for f in STABILITY_FACTORS)} × the limit; "
           "a run stops as diverged once its loss passes 10⁴ × its start.")
