"""Loss landscape: two-parameter problems as contours, the path of each batch size, one mini-batch's surface."""

import streamlit as st

from gd_core.science.landscape import (
    LANDSCAPE_OPTIMIZERS,
    LandscapeConfig,
    curvature_limit,
    make_landscape,
    stable_lr,
    step_view,
)
from ui import landscape_charts as charts
from ui import nav
from ui.colors import batch_size_color, batch_size_label
from ui.figure_cache import cached_figure_for
from ui.i18n import t
from ui.text import md_escape

PROBLEMS = {"least_squares": "landscape.problem_least_squares",  # problem -> the message id of its name
            "logistic_2d": "landscape.problem_logistic_2d"}
BATCH_CHOICES = [1, 2, 4, 8, 16, 32, 64, 0]  # 0 = full batch
LR_CHOICES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 2.0, 3.0, 5.0, 10.0]

st.set_page_config(page_title=t("landscape.page_title"), layout="wide")
nav.page_links()
st.title(t("landscape.title"))
st.caption(t("landscape.intro"))

c = st.columns([3, 3, 2, 2])
problem = c[0].selectbox(t("form.problem"), PROBLEMS, format_func=lambda p: t(PROBLEMS[p]), key="ls_problem")
sizes = c[1].multiselect(t("landscape.batch_sizes"), BATCH_CHOICES, default=[1, 16, 0], key="ls_batch_sizes",
                         format_func=lambda b: t("form.full_batch") if b == 0 else str(b))
optimizer = c[2].selectbox(t("form.optimizer"), LANDSCAPE_OPTIMIZERS, key="ls_optimizer")
momentum = c[3].slider(t("landscape.momentum"), 0.0, 0.99, 0.9, 0.01, key="ls_momentum",
                       disabled=optimizer not in ("sgd+momentum", "nesterov"))
c = st.columns(6)
lr = c[0].select_slider(t("axis.lr"), LR_CHOICES, value=0.3, key="ls_lr")
steps = c[1].slider(t("optimizers.steps"), 5, 300, 60, key="ls_steps")
sampling = c[2].radio(t("form.sampling"), ["shuffle", "replacement"], horizontal=True, key="ls_sampling")
n_samples = c[3].slider(t("form.n_samples"), 50, 1000, 200, 50, key="ls_n_samples")
noise = c[4].slider(t("form.noise"), 0.0, 2.0, 0.5, 0.05, key="ls_noise")
seed = int(c[5].number_input(t("landscape.seed"), 0, 10_000, 0, key="ls_seed"))
if not sizes:
    st.info(t("landscape.pick_one"))
    st.stop()


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def compute(cfg: LandscapeConfig):
    return make_landscape(cfg)


try:
    cfg = LandscapeConfig(problem=problem, n_samples=n_samples, noise=noise, seed=seed, batch_sizes=tuple(sizes),
                          optimizer=optimizer, lr=lr, momentum=momentum, steps=steps, sampling=sampling)
    ls = compute(cfg)
except ValueError as err:
    st.error(t("landscape.cannot_draw", error=md_escape(err)))
    st.stop()
n = len(ls.y)
runs = list(ls.trajectories)
if st.session_state.get("ls_step", 0) > steps - 1:  # fewer steps than before: keep the slider in range
    st.session_state["ls_step"] = steps - 1
if st.session_state.get("ls_show_batch") not in runs:
    st.session_state["ls_show_batch"] = runs[0]
paths = {B: tr.weights for B, tr in ls.trajectories.items()}
# The race chart is drawn first and alone; the one-step mini-batch view and the loss-per-step chart are drawn once
# their expanders are opened (a cold browser's first paint then draws one chart, not three).
race = cached_figure_for("race", cfg, lambda: charts.race_chart(ls.w1s, ls.w2s, ls.Z, paths, n, ls.w_star, ls.w0,
                                                                ls.param_names))
st.markdown(f"**{t('landscape_chart.race_title')}**")
st.plotly_chart(race, key="ls_full_chart")
st.caption(t("landscape.full_caption"))

curvature, exact = curvature_limit(ls.problem, ls.X)
warn, note = charts.stability_note(curvature, exact, lr, optimizer, stable_lr(curvature, optimizer, momentum))
(st.warning if warn else st.info)(note)
diverged = [batch_size_label(B, n) for B, tr in ls.trajectories.items() if tr.diverged_at is not None]
if diverged:
    st.warning(t("landscape.diverged", runs=", ".join(diverged)))

step = 0
with st.expander(t("landscape.batch_view_label"), key="ls_open_batch", on_change="rerun") as batch_box:
    if batch_box.open:
        c = st.columns([3, 2])
        step = c[0].slider(t("landscape.step"), 0, steps - 1, 0, key="ls_step")
        shown = c[1].selectbox(t("landscape.batch_of"), runs, format_func=lambda B: batch_size_label(B, n),
                               key="ls_show_batch")
        view = step_view(ls, shown, step)
        color, label = batch_size_color(shown, n), batch_size_label(shown, n)
        arrows = charts.gradient_arrows(view.w, view.full_grad, view.batch_grad, ls.w1s[-1] - ls.w1s[0], color,
                                        label)
        st.plotly_chart(charts.batch_surface_chart(ls.w1s, ls.w2s, view.Zb, view.w, view.batch_min, ls.w_star,
                                                   color, label, view.step, ls.param_names, arrows),
                        key="ls_batch_chart")
        k = len(view.batch_indices)
        st.caption(t("landscape.batch_caption_one" if k == 1 else "landscape.batch_caption", k=k))
with st.expander(t("landscape.loss_view_label"), key="ls_open_losses", on_change="rerun") as loss_box:
    if loss_box.open:
        st.plotly_chart(cached_figure_for("loss_curves", (cfg, step), lambda: charts.loss_curves_chart(
            {B: tr.losses for B, tr in ls.trajectories.items()}, n, step)), key="ls_loss_chart")
