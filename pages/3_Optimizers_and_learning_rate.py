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
from ui.i18n import problem_data_help, t
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


st.set_page_config(page_title=t("optimizers.page_title"), layout="wide")
nav.page_links()
st.title(t("optimizers.title"))
with st.form("opt_form"):
    c = st.columns(4)
    problem = c[0].selectbox(t("form.problem"), PROBLEMS, index=PROBLEMS.index("mlp"), key="opt_problem",
                             help=problem_data_help(DATASET_FOR))
    batch = c[1].select_slider(t("optimizers.batch"), BATCHES, value=32, key="opt_batch")
    epochs = c[2].slider(t("optimizers.epochs"), 1, 20, 5, key="opt_epochs")
    kappa = c[3].select_slider(t("optimizers.kappa"), [1, 10, 100, 1000], value=10, key="opt_kappa")
    st.markdown(t("optimizers.lrs"))
    c = st.columns(len(VARIANTS))
    lrs = {v: c[i].select_slider(v, LR_CHOICES, value=DEFAULT_LRS[v], key=f"lr_{v}", format_func="{:g}".format)
           for i, v in enumerate(VARIANTS)}
    c = st.columns(2)
    sweep_variant = c[0].selectbox(t("optimizers.sweep_variant"), list(VARIANTS), key="sweep_variant")
    center = c[1].select_slider(t("optimizers.sweep_center"), LR_CHOICES, value=0.1,
                                key="sweep_center", format_func="{:g}".format)
    st.form_submit_button(t("form.run"), type="primary", key="opt_run")

base = ExperimentConfig(problem=problem, dataset=DATASET_FOR[problem], n_samples=1000, noise=0.2,
                        condition_number=float(kappa), batch_sizes=(batch,), budget=float(epochs),
                        n_checkpoints=50)
n_train = base.n_train()
b_label = t("optimizers.full_batch", n=n_train) if batch == "full" else t("optimizers.batch_b", b=batch)
logs = {v: run_log(cfg.to_json()) for v, cfg in variant_configs(base, lrs).items()}
st.plotly_chart(optimizer_curves_chart(combine_variants(logs), b_label), key="opt_curves")
# Drawn once opened: KaTeX is ~260 KB of JavaScript and fonts a cold browser would load beside the first chart.
with st.expander(t("optimizers.formulas"), key="opt_formulas", on_change="rerun") as formulas:
    if formulas.open:
        for row in formula_rows(VARIANTS):  # one st.columns per row: a row's formulas start level
            for col, v in zip(st.columns(3), row, strict=False):
                col.markdown(f"**{v}**")
                col.latex(UPDATE_RULES_LATEX[v])
with st.expander(t("optimizers.exact_rules")):
    st.markdown("\n".join(f"- **{o}**: `{describe(o)}`" for o in ("sgd", "adagrad", "rmsprop", "adam")))

# The sweep and the 2/λ_max sections are computed and drawn once opened (lazy expanders, as on the scaling page):
# a cold browser's first paint then draws one chart, not three.
st.header(t("optimizers.sweep_header", variant=sweep_variant, batch=b_label))
with st.expander(t("scaling.lazy_label"), key="opt_open_sweep", on_change="rerun") as open_sweep:
    if open_sweep.open:
        sweep_cfg = variant_configs(base, {sweep_variant: center})[sweep_variant].replace(lrs=lr_grid(center, 4.0, 7))
        sweep_log = run_log(sweep_cfg.to_json())
        st.plotly_chart(lr_sweep_chart(sweep_log, classify_lr_curves(sweep_log),
                                       t("optimizers.sweep_title", variant=sweep_variant, batch=b_label)),
                        key="opt_sweep")
        st.caption(t("optimizers.verdicts", final_share=FINAL_SHARE, fraction=TOO_LOW_FRACTION))

st.header(t("optimizers.limit_header"))
with st.expander(t("scaling.lazy_label"), key="opt_open_limit", on_change="rerun") as open_limit:
    if open_limit.open:
        with st.form("limit_form"):
            c = st.columns(3)
            n_features = c[0].slider(t("form.n_features"), 1, 20, 5, key="lim_features")
            kappa_lim = c[1].select_slider(t("form.condition_number"), [1, 10, 100, 1000], value=10,
                                           key="lim_kappa")
            steps = c[2].select_slider(t("optimizers.steps"), [100, 300, 1000], value=300, key="lim_steps")
            st.form_submit_button(t("form.run"), key="lim_run")
        lim_cfg = stability_config(n_features, float(kappa_lim), steps)
        ds = build_dataset(lim_cfg)
        eig = hessian_eigenvalues(make_problem("least_squares", ds.n_features), ds.X_train)
        limit, fastest = 2 / eig[-1], 2 / (eig[-1] + eig[0])
        lim_log = run_log(lim_cfg.replace(lrs=tuple(f * limit for f in STABILITY_FACTORS)).to_json())
        st.plotly_chart(stability_chart(sweep_summary(lim_log), limit, fastest), key="opt_limit")
        st.caption(t("optimizers.limit_caption", lmax=eig[-1], lmin=eig[0], kappa=eig[-1] / eig[0],
                     factors=", ".join(f"{f:g}" for f in STABILITY_FACTORS)))
