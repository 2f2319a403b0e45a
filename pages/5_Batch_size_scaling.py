"""Batch-size scaling: gradient noise, steps to target vs B (Shallue et al.), the critical batch size
(McCandlish et al.), lr scaling rules (Goyal et al.) and growing the batch instead of decaying the lr (Smith et al.)."""

import dataclasses

import numpy as np
import streamlit as st

from gd_core import build_dataset
from gd_core.science.noise import noise_during_training, noise_stats, relative_noise_curve, two_batch_estimate
from gd_core.science.phases import decay_vs_grow
from gd_core.science.scaling import (
    b_simple_at_target,
    default_spec,
    estimate_work,
    fit_steps_model,
    run_sweep,
    suggest_smaller,
)
from gd_core.science.scaling_rules import rule_configs, rules_table
from gd_core.train.runner import build_problem
from ui import cache, cluster, nav
from ui.figure_cache import cached_figure
from ui.i18n import t
from ui.scaling_charts import (
    decay_vs_grow_chart,
    noise_during_training_chart,
    relative_noise_chart,
    scaling_rules_chart,
    steps_to_target_chart,
    tuned_lr_chart,
)

PAGE_WORK_BUDGET = 8e9  # gd_core.train.limits work units (estimate_work): ~4.8x the default sweep; it refuses
# exactly the form choices the earlier 3e8 of the old per-sweep model (parameter-example products) refused
# Sections 3 and 4 are computed and drawn once opened (lazy expanders), and so are the second charts of sections 1
# and 2: a cold browser's first paint then draws two charts, not six.
# Figures are built once per (data, options) for all sessions (ui/figure_cache.py): ~240 ms of a warm rerun otherwise.

st.set_page_config(page_title=t("scaling.page_title"), layout="wide")
nav.page_links()
st.title(t("scaling.title"))
st.caption(t("scaling.intro"))

st.header(t("scaling.noise_header"))
with st.form("noise_form"):
    c = st.columns(3)
    sampling = c[0].selectbox(t("form.sampling"), ["shuffle", "replacement"], key="noise_sampling")
    draws = c[1].select_slider(t("scaling.draws"), [50, 100, 200, 400], value=200, key="noise_draws")
    noise = c[2].select_slider(t("scaling.target_noise"), [0.05, 0.1, 0.2, 0.5], value=0.1, key="noise_level")
    st.form_submit_button(t("form.run"), key="noise_run")
@st.cache_data(max_entries=8, show_spinner=False)  # the caller's spinner speaks the session's language
def noise_section(noise: float, sampling: str, draws: int):
    spec = default_spec(noise=noise)
    ds = build_dataset(spec.base)
    problem = build_problem(spec.base, ds)
    w0 = problem.init_params(np.random.default_rng([0, 0]))
    X, y = ds.X_train, ds.y_train
    curve = relative_noise_curve(problem, X, y, w0, spec.batch_sizes, draws, sampling, np.random.default_rng(1))
    exact = noise_stats(problem, w0, X, y).b_simple
    est = two_batch_estimate(problem, w0, X, y, 2, 32, 1000, np.random.default_rng(2)).b_simple
    during = noise_during_training(spec.base.replace(batch_sizes=(8,), lrs=(0.05,), budget=10.0), n_points=20)
    return curve, exact, est, during


with st.spinner(t("scaling.measuring_noise")):
    curve, exact, est, during = noise_section(noise, sampling, draws)
base = default_spec(noise=noise).base
n_train = base.n_train()
st.plotly_chart(cached_figure("scaling_noise", curve, relative_noise_chart, n_train=n_train, sampling=sampling),
                key="noise_curve")
c = st.columns(2)
c[0].metric(t("scaling.b_simple_exact"), f"{exact:.3g}")
c[1].metric(t("scaling.b_simple_two_batch"), f"{est:.3g}", f"{est / exact - 1:+.0%}",
            delta_color="off")
st.caption(t("scaling.noise_caption"))
with st.expander(t("scaling.lazy_chart", chart=t("scaling.noise_training_chart")), key="open_noise_training",
                 on_change="rerun") as open_training:
    if open_training.open:
        st.plotly_chart(cached_figure("scaling_noise_training", during, noise_during_training_chart),
                        key="noise_training")

st.header(t("scaling.steps_header"))
with st.form("sweep_form"):
    c = st.columns(3)
    fraction = c[0].select_slider(t("scaling.fraction"), [0.001, 0.002, 0.005, 0.01, 0.02],
                                  value=0.002, key="sweep_fraction")
    n_lrs = c[1].select_slider(t("scaling.n_lrs"), [6, 8, 12, 16], value=12, key="sweep_lrs")
    epochs = c[2].select_slider(t("scaling.epochs"), [5, 10, 20, 50, 100], value=10, key="sweep_epochs")
    st.form_submit_button(t("form.run"), type="primary", key="sweep_run")
spec = dataclasses.replace(default_spec(fraction, n_lrs, noise=noise), epochs=float(epochs), max_steps=20_000)
n_params = base.n_features + 1
work = estimate_work(spec, n_train, n_params)
fit = summary = result = None
if work > PAGE_WORK_BUDGET:
    small = suggest_smaller(spec, PAGE_WORK_BUDGET, n_train, n_params)
    st.warning(t("scaling.too_big", ratio=work / PAGE_WORK_BUDGET, epochs=small.epochs, n_lrs=len(small.lrs)))
elif (dask := cluster.connect()) is not None:  # GDLAB_DASK_SCHEDULER: the sweep trains on the cluster
    result = cluster.cluster_sweep(dask, spec, n_train, restart=st.session_state.get("sweep_run", False))
else:
    result = run_sweep(spec, run=lambda cfg: cache.run(cfg, label=f"B={cfg.batch_sizes[0]}").log)
if result is not None:
    summary = result.summary
    fit = fit_steps_model(summary["batch_size"], summary["steps_to_target"])
    at = b_simple_at_target(base.replace(target_loss=spec.base.target_loss), float(summary["best_lr"].iloc[-1]))
    st.plotly_chart(cached_figure("scaling_steps", summary, steps_to_target_chart, fit=fit, n_train=n_train,
                                  b_simple=at["b_simple_target"]), key="sweep_steps")
    c = st.columns(4)
    c[0].metric(t("scaling.s_min"), f"{fit.s_min:.3g}")
    c[1].metric(t("scaling.e_min"), f"{fit.e_min:.3g}")
    c[2].metric("B_crit = E_min/S_min", f"{fit.b_crit:.3g}")
    c[3].metric(t("scaling.b_simple_target"), f"{at['b_simple_target']:.3g}",
                t("scaling.at_init", value=at["b_simple_init"]),
                delta_color="off")
    st.caption(t("scaling.steps_caption", target=spec.base.target_loss, n=spec.n_checkpoints))
    with st.expander(t("scaling.lazy_chart", chart=t("scaling.tuned_lr_chart")), key="open_sweep_lr",
                     on_change="rerun") as open_lr:
        if open_lr.open:
            st.plotly_chart(cached_figure("scaling_lr", summary, tuned_lr_chart, lrs=spec.lrs, n_train=n_train),
                            key="sweep_lr")

st.header(t("scaling.rules_header"))
with st.expander(t("scaling.lazy_label"), key="open_rules", on_change="rerun") as open_rules:
    if open_rules.open:
        with st.form("rules_form"):
            c = st.columns(3)
            ref_b = c[0].select_slider(t("scaling.ref_b"), [2, 4, 8, 16], value=4, key="rules_ref_b")
            rule_epochs = c[1].select_slider(t("optimizers.epochs"), [1, 2, 5, 10], value=2, key="rules_epochs")
            warmup = c[2].select_slider(t("scaling.warmup"), [0.0, 0.5, 1.0], value=0.5, key="rules_warmup")
            st.form_submit_button(t("form.run"), key="rules_run")
        tuned = summary.set_index("batch_size")["best_lr"].get(ref_b, np.nan) if summary is not None else np.nan
        ref_lr = float(tuned) if np.isfinite(tuned) else 0.02
        logs = {rule: cache.run(cfg, label=rule).log for rule, cfg in rule_configs(
            base, ref_b, ref_lr, spec.batch_sizes, rule_epochs, warmup).items()}
        st.plotly_chart(cached_figure("scaling_rules", rules_table(logs, None), scaling_rules_chart,
                                     b_crit=getattr(fit, "b_crit", None), ref_batch_size=ref_b), key="rules_chart")
        st.caption(t("scaling.rules_caption", ref_b=ref_b, ref_lr=ref_lr))

st.header(t("scaling.smith_header"))
with st.expander(t("scaling.lazy_label"), key="open_smith", on_change="rerun") as open_smith:
    if open_smith.open:
        with st.form("smith_form"):
            c = st.columns(3)
            b_start = c[0].select_slider(t("scaling.b_start"), [1, 2, 4, 8], value=2, key="smith_b")
            factor = c[1].select_slider(t("scaling.factor"), [2, 3, 5], value=3, key="smith_factor")
            every = c[2].select_slider(t("scaling.every"), [1, 2, 3], value=2, key="smith_every")
            st.form_submit_button(t("form.run"), key="smith_run")
        with st.spinner(t("scaling.training")):
            smith = st.cache_data(decay_vs_grow, max_entries=8, show_spinner=False)(
                base, b_start, 0.02 * b_start, factor, every, 4 * every)
        st.plotly_chart(cached_figure("scaling_smith", smith, decay_vs_grow_chart), key="smith_chart")
        st.caption(t("scaling.smith_caption"))
