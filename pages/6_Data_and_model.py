"""Data and model: what each batch size has learnt, drawn. 2-D points with every batch size's decision regions at a
chosen point of training (small multiples), or the handwritten digits with a linear classifier's weights drawn as
one image per class (cs231n's templates), one row per batch size."""

import numpy as np
import streamlit as st

from gd_core import ConfigError, ExperimentConfig, build_dataset
from gd_core.data.real import REAL, read_real_csv
from gd_core.science.pictures import TEMPLATE_PROBLEMS, class_templates, data_range, decision_grid, training_snapshots
from gd_core.train.runner import build_problem
from ui import data_charts, nav
from ui.colors import batch_size_label
from ui.i18n import t
from ui.share import fit_host_budget
from ui.text import md_escape

PLANAR = ("moons", "spiral", "circles", "xor", "blobs")
REGION_MODELS = ("mlp", "softmax", "svm", "logistic")
BATCH_CHOICES = ("1", "8", "32", "128", "full")
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
EPOCHS = (1, 2, 5, 10, 20, 50)
REGS = (0.0, 0.001, 0.01, 0.1)
N_FRAMES = 20  # the progress slider's positions: 0, 1/20, ..., 1 of the budget
MAX_PANELS = 4
N_SAMPLES_2D = 600

st.set_page_config(page_title=t("data.page_title"), layout="wide")
nav.page_links()
st.title(t("data.title"))
st.caption(t("data.intro"))


@st.cache_data(max_entries=16, show_spinner=False)  # the caller's spinner speaks the session's language
def snapshots(config_json: str):
    """The data and each batch size's snapshots at N_FRAMES + 1 points of training (cached by the config)."""
    config = ExperimentConfig.from_json(config_json)
    ds = build_dataset(config)
    shots = training_snapshots(config, ds, np.linspace(0.0, 1.0, N_FRAMES + 1))
    return ds, shots


def picked_config(**fields) -> ExperimentConfig | None:
    """The config the controls describe, fitted to this host; None (with a message) when it is not valid."""
    sizes = st.session_state.get("dm_batch_sizes") or []
    if not sizes:
        st.warning(t("landscape.pick_one"))
        return None
    if len(sizes) > MAX_PANELS:
        st.warning(t("data.too_many", n=MAX_PANELS))
    try:
        config = ExperimentConfig(batch_sizes=tuple(sizes[:MAX_PANELS]), n_checkpoints=N_FRAMES, **fields)
        config, notes = fit_host_budget(config)
    except ConfigError as e:
        st.error(t("data.not_drawn", error=md_escape(e)))
        return None
    for note in notes:
        st.info(md_escape(note))
    return config


def common_controls(models, default_model: str, default_lr: float, default_epochs: int, default_reg: float) -> dict:
    """The model and training controls; each picture keeps its own values (keys dm_<kind>_...)."""
    c = st.columns(5)
    problem = c[0].selectbox(t("data.model"), models, index=models.index(default_model), key=f"dm_{kind}_problem",
                             help=t("data.model_help"))
    c[1].multiselect(t("data.batch_sizes"), BATCH_CHOICES, default=["1", "32", "full"],
                     key="dm_batch_sizes", max_selections=MAX_PANELS,
                     format_func=lambda b: t("form.full_batch") if b == "full" else f"B = {b}")
    lr = c[2].select_slider(t("axis.lr"), LRS, value=default_lr, key=f"dm_{kind}_lr")
    epochs = c[3].select_slider(t("optimizers.epochs"), EPOCHS, value=default_epochs, key=f"dm_{kind}_epochs")
    reg = c[4].select_slider(t("form.reg"), REGS, value=default_reg, key=f"dm_{kind}_reg", help=t("data.reg_help"))
    return dict(problem=problem, lrs=(lr,), budget=float(epochs), reg=reg)


def progress_slider(config: ExperimentConfig) -> int:
    """The frame (0..N_FRAMES) to draw, picked on a slider labelled in epochs."""
    frames = list(range(N_FRAMES + 1))
    return st.select_slider(t("data.progress"), frames, value=N_FRAMES, key="dm_frame",
                            format_func=lambda i: f"{config.budget * i / N_FRAMES:g}")


def panel_label(B: int, n_train: int, shot) -> str:
    return t("data.panel_label", batch=batch_size_label(B, n_train), steps=shot.step, acc=shot.val_accuracy)


kind = st.radio(t("data.picture"), ("regions", "templates"), horizontal=True, key="dm_kind",
                format_func={"regions": t("data.regions"), "templates": t("data.templates")}.get)

if kind == "regions":
    c = st.columns(4)
    dataset = c[0].selectbox(t("form.dataset"), PLANAR, key="dm_dataset")
    noise = c[1].select_slider(t("form.noise"), (0.05, 0.1, 0.2, 0.3, 0.5), value=0.2, key="dm_noise")
    n_classes = c[2].slider(t("data.classes"), 2, 5, 3, key="dm_classes")
    fields = common_controls(REGION_MODELS, "mlp", 0.1, 10, 0.0)
    config = picked_config(dataset=dataset, n_samples=N_SAMPLES_2D, n_features=2, n_classes=n_classes, noise=noise,
                           **fields)
    if config is not None:
        with st.spinner(t("data.training")):
            ds, shots = snapshots(config.to_json())
        frame = progress_slider(config)
        problem = build_problem(config, ds)
        x_range, y_range = data_range(np.concatenate([ds.X_train, ds.X_val]))
        panels = [(panel_label(B, ds.n_train, runs[frame]),
                   decision_grid(problem, runs[frame].weights, x_range, y_range, resolution=120))
                  for B, runs in shots.items()]
        st.plotly_chart(data_charts.decision_regions_figure(panels, ds.X_train, ds.y_train, ds.class_names),
                        key="dm_regions")
        st.caption(t("data.regions_caption", n_train=ds.n_train, n=config.n_samples, shown=data_charts.MAX_POINTS,
                     done=config.budget * frame / N_FRAMES, budget=config.budget))
else:
    info = REAL["digits"]
    fields = common_controls(TEMPLATE_PROBLEMS, "softmax", 0.003, 5, 0.01)
    standardize = st.checkbox(t("data.standardize"), value=False, key="dm_templates_standardize",
                              help=t("data.standardize_help"))
    config = picked_config(dataset="digits", standardize=standardize, **fields)
    if config is not None:
        with st.spinner(t("data.training")):
            ds, shots = snapshots(config.to_json())
        _, X_raw, y_raw = read_real_csv("digits")
        first = [int(np.flatnonzero(y_raw == c)[0]) for c in range(info.n_classes)]
        st.plotly_chart(data_charts.examples_figure(X_raw[first].reshape(-1, *info.image_shape), info.class_names,
                                                    title=t("data.examples_title")), key="dm_examples")
        frame = progress_slider(config)
        problem = build_problem(config, ds)
        rows = [(panel_label(B, ds.n_train, runs[frame]),
                 class_templates(problem, runs[frame].weights, info.image_shape)) for B, runs in shots.items()]
        st.plotly_chart(data_charts.templates_figure(rows, ds.class_names, title=t("data.templates_title")),
                        key="dm_templates")
        st.caption(t("data.templates_caption", problem=config.problem, n=info.n_samples))
