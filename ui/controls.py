"""Widget builders for the experiment form; `config_from_state` is the ONE place widgets become a config.

Widgets read their values from `st.session_state` (keys `cfg_*`), filled from a config by `config_to_state`
before they are drawn: that is how a share link, a preset and the defaults all set every control at once.
The form applies changes on Run (its submit callback builds the config); view toggles live outside it.

The form's expanders are closed and lazy: their widgets are not drawn until the expander is first opened (a cold
page load draws ~38 fewer widgets; benchmarks/DASHBOARD.md). Streamlit deletes the key of a widget that is not
drawn in a run, so every field's value also lives under a plain key, `_saved_cfg_<field>`: set by presets and
share links (`_apply`), updated on Run from the widgets drawn in the last run (`on_submit`, which builds the
config from the saved values), and written back to the widget keys not drawn in the last run before the form
is drawn (`init_state`). Once opened, an expander's widgets are drawn (closed) in every later run.
"Problem and data" is lazy too: a caption above it states what it holds (`problem_summary`), and it opens by
itself when a CSV is uploaded (the target column is picked there).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, MutableMapping

import numpy as np
import pandas as pd
import streamlit as st

from gd_core import LR_SCALING, OPTIMIZERS, PROBLEMS, SCHEDULES, ConfigError, ExperimentConfig, read_csv_columns
from gd_core.config import BUDGET_UNITS, DATASETS, DTYPES, SAMPLING, TARGET_METRICS, coerce_field
from gd_core.optimizers import hyperparameters
from ui.presets import HOSTED_MAX_SAMPLES, PRESETS, preset_for
from ui.share import check_host_budget, host_limits, read_query

CUSTOM = "custom"
LR_GRID = tuple(sorted({round(m * 10.0 ** e, 12) for e in range(-4, 2) for m in (1, 2, 5)} - {20.0, 50.0}))
BATCH_OPTIONS = ("1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "full")
CONFIG_FIELDS_USED_BY = {"sgd": "momentum, nesterov, weight_decay", "adagrad": "eps, weight_decay",
                         "rmsprop": "alpha, momentum, eps, weight_decay", "adam": "betas, eps, weight_decay"}
SIMPLE = ("problem", "hidden", "reg", "dataset", "n_samples", "n_features", "n_classes", "noise",
          "condition_number", "n_unique", "label_noise", "val_fraction", "standardize", "data_seed", "target",
          "optimizer", "momentum", "nesterov", "eps", "alpha", "weight_decay", "schedule", "step_epochs",
          "gamma", "decay", "warmup_epochs", "lr_scaling", "ref_batch_size", "sampling", "budget_unit",
          "budget", "n_checkpoints", "eval_examples", "dtype")


def config_to_state(config: ExperimentConfig) -> dict:
    """Widget values (`cfg_*` keys) that show `config`."""
    s = {f"cfg_{k}": getattr(config, k) for k in SIMPLE}
    s.update(cfg_lr=config.lrs[0], cfg_lr_sweep=",".join(f"{v:g}" for v in config.lrs) if len(config.lrs) > 1
             else "", cfg_beta1=config.betas[0], cfg_beta2=config.betas[1],
             cfg_batch_sizes=[str(b) for b in config.batch_sizes], cfg_n_seeds=len(config.seeds),
             cfg_first_seed=config.seeds[0])
    return s


def config_from_state(state, base: ExperimentConfig | None = None) -> ExperimentConfig:
    """The config the widget values (`cfg_*` keys of `state`) describe; fields without a widget come from
    `base`. Raises ConfigError."""
    base = base or ExperimentConfig()
    values = {k: state[f"cfg_{k}"] for k in SIMPLE}
    sweep = str(state.get("cfg_lr_sweep") or "").strip()
    lrs = coerce_field("lrs", sweep) if sweep else (state["cfg_lr"],)
    first = int(state["cfg_first_seed"])
    if values["dataset"] != "csv":
        values["target"] = None
    return base.replace(
        **values, csv_path=None, lrs=lrs, betas=(state["cfg_beta1"], state["cfg_beta2"]),
        batch_sizes=coerce_field("batch_sizes", list(state["cfg_batch_sizes"])),
        seeds=tuple(range(first, first + int(state["cfg_n_seeds"]))))


# -- saved values: the form's fields outlive their widgets (lazy expanders, other pages) ------------------

SAVED = "_saved_"  # prefix of the plain keys that keep the form's values while their widgets are not drawn
FORM_KEYS = tuple(config_to_state(ExperimentConfig()))  # every widget key of the experiment form
SECTION_KEYS = {  # the widget keys of each lazy expander (tests check them against what is drawn)
    "exp_problem": ("cfg_problem", "cfg_dataset", "cfg_target", "cfg_n_samples", "cfg_n_classes",
                    "cfg_condition_number", "cfg_label_noise", "cfg_hidden", "cfg_n_features", "cfg_noise",
                    "cfg_n_unique", "cfg_val_fraction", "cfg_reg"),
    "exp_optimizer": ("cfg_optimizer", "cfg_momentum", "cfg_alpha", "cfg_beta1", "cfg_eps", "cfg_nesterov",
                      "cfg_weight_decay", "cfg_beta2"),
    "exp_schedule": ("cfg_lr_scaling", "cfg_ref_batch_size", "cfg_schedule", "cfg_step_epochs", "cfg_decay",
                     "cfg_gamma", "cfg_warmup_epochs"),
    "exp_budget": ("cfg_budget_unit", "cfg_budget", "cfg_sampling", "cfg_n_seeds"),
    "exp_advanced": ("cfg_lr_sweep", "cfg_first_seed", "cfg_data_seed", "cfg_dtype", "cfg_standardize",
                     "cfg_n_checkpoints", "cfg_eval_examples"),
}
ALWAYS_KEYS = tuple(k for k in FORM_KEYS if not any(k in keys for keys in SECTION_KEYS.values()))


def saved_values(state: Mapping) -> dict:
    """The form's values (`cfg_*` keys) as last applied or submitted, drawn or not."""
    return {k: state[SAVED + k] for k in FORM_KEYS}


def live_keys(state: Mapping) -> set[str]:
    """The form's widget keys drawn in the last run. Only these hold the form's values: a widget key that was
    not drawn is deleted by Streamlit, or left holding whatever was last written to it before the widget
    first appeared. The Run button's key, never written by code, is in `state` only if the form was drawn in
    the last run (not after another page's run)."""
    if "cfg_run" not in state:
        return set()
    return {*ALWAYS_KEYS, *(k for sec in state.get("_form_sections", ()) for k in SECTION_KEYS[sec])}


# -- state transitions (run before widgets are drawn: callbacks and the first run) ---------------------

def init_state(state: MutableMapping, query_params) -> None:
    """Every home run, before the widgets: on the first run of a session the config comes from the URL (bad
    fields fall back, with messages); the form's widget keys not drawn in the last run get their saved values."""
    if "home_config" not in state:
        config, messages = read_query(query_params.to_dict() if hasattr(query_params, "to_dict")
                                      else query_params)
        state["home_config"], state["home_messages"], state["home_error"] = config, messages, None
        state["cfg_preset"] = preset_for(config) or CUSTOM
    for k, v in config_to_state(state["home_config"]).items():
        state.setdefault(SAVED + k, v)
    live = live_keys(state)
    for k in FORM_KEYS:  # a widget drawn in the last run keeps its value (and the user's unsubmitted edit)
        if k not in live:
            state[k] = state[SAVED + k]
    state.setdefault("cfg_preset", preset_for(state["home_config"]) or CUSTOM)


def _apply(state: MutableMapping, config: ExperimentConfig, messages=()) -> None:
    values = config_to_state(config)
    state.update(values)
    state.update({SAVED + k: v for k, v in values.items()})
    state["home_config"], state["home_messages"], state["home_error"] = config, list(messages), None
    state["cfg_preset"] = preset_for(config) or CUSTOM


def on_preset(state: MutableMapping) -> None:
    key = state["cfg_preset"]
    if key in PRESETS:
        _apply(state, PRESETS[key].config)


def on_submit(state: MutableMapping) -> None:
    for k in live_keys(state):  # the widgets drawn in the last run hold what the user submitted
        state[SAVED + k] = state[k]
    try:
        config, messages = host_limits(config_from_state(saved_values(state), base=state["home_config"]))
        check_host_budget(config)
    except ConfigError as e:
        state["home_error"] = str(e)
        return
    _apply(state, config, messages)


# -- widgets -----------------------------------------------------------------------------------------

def preset_picker() -> None:
    st.selectbox("Scenario", (CUSTOM, *PRESETS), key="cfg_preset", on_change=on_preset,
                 args=(st.session_state,), format_func=lambda k: PRESETS[k].title if k in PRESETS else
                 "custom (your settings)", help="Sets every control at once and runs it.")


def csv_upload() -> tuple[bytes | None, list[str]]:
    """An optional CSV (used when dataset = csv): its bytes and column names; errors shown, not raised."""
    file = st.file_uploader("Your data (CSV, for dataset = csv)", type="csv", key="cfg_csv_file",
                            help="Numeric feature columns plus one target column; pick it in the form.")
    if file is None:
        return None, []
    data = file.getvalue()
    try:
        return data, read_csv_columns(io.BytesIO(data))
    except ValueError as e:  # gd_core.csv_data.CSVError
        st.error(f"CSV: {e}")
        return None, []


def _num(label, key, lo=None, hi=None, step=None, fmt="%g", help=None):
    st.number_input(label, min_value=lo, max_value=hi, step=step, format=fmt, key=key, help=help)


def experiment_form(columns: list[str]) -> None:
    """The sidebar form; its Run button builds the config (`on_submit`)."""
    s = st.session_state
    if s.get("cfg_target") not in columns:
        s["cfg_target"] = columns[-1] if columns else None
    for key, options in (("cfg_lr", LR_GRID), ("cfg_batch_sizes", BATCH_OPTIONS)):
        have = s[key] if isinstance(s[key], list) else [s[key]]
        s[f"_{key}_options"] = sorted({*options, *have}, key=_order)
    if columns and s.get("_problem_opened_for") != columns:  # a new upload: open the section with its target
        s["_problem_opened_for"], s["exp_problem"], s["_opened_exp_problem"] = columns, True, True
    with st.form("experiment", border=False):
        st.multiselect("Batch sizes B", s["_cfg_batch_sizes_options"], key="cfg_batch_sizes",
                       accept_new_options=True, help='One run per batch size; type any size, or "full".')
        st.select_slider("Learning rate (log scale)", s["_cfg_lr_options"], key="cfg_lr",
                         format_func=lambda v: f"{v:g}")
        st.caption(problem_summary(saved_values(s)) + " — open *Problem and data* to change")
        boxes = [(st.expander(label, key=key, on_change="rerun"), key, fields) for label, key, fields in LAZY_SECTIONS]
        for box, key, _ in boxes:  # lazy until first opened; then drawn even when closed, so an edit not yet
            if box.open:  # submitted survives closing the expander (the browser holds it, not the server)
                s[f"_opened_{key}"] = True
        s["_form_sections"] = tuple(key for _, key, _ in boxes if s.get(f"_opened_{key}"))
        for box, key, fields in boxes:
            if key in s["_form_sections"]:
                with box:
                    fields(columns) if fields is _problem_fields else fields()
        st.form_submit_button("Run", type="primary", key="cfg_run", on_click=on_submit, args=(s,))


def _problem_fields(columns: list[str]) -> None:
    st.selectbox("Problem", PROBLEMS, key="cfg_problem",
                 help="least_squares needs dataset linear; logistic needs 2 classes.")
    st.selectbox("Dataset", (*DATASETS, "csv"), key="cfg_dataset")
    st.selectbox("Target column (csv)", columns, key="cfg_target")
    c1, c2 = st.columns(2)
    with c1:
        _num("Samples (train + val)", "cfg_n_samples", 2, HOSTED_MAX_SAMPLES, 100, "%d")
        _num("Classes", "cfg_n_classes", 2, 100, 1, "%d")
        _num("Condition number", "cfg_condition_number", 1.0, 1e8, 10.0, help="linear only: kappa of X^T X / N")
        _num("Label noise", "cfg_label_noise", 0.0, 0.99, 0.05, help="fraction of training labels replaced at random")
        _num("MLP hidden units", "cfg_hidden", 1, 1024, 8, "%d")
    with c2:
        _num("Features", "cfg_n_features", 1, 1000, 1, "%d")
        _num("Noise", "cfg_noise", 0.0, 100.0, 0.1)
        _num("Unique examples", "cfg_n_unique", 1, HOSTED_MAX_SAMPLES, 1, "%d",
             help="Redundancy: the training set is this many examples repeated (empty = all unique).")
        _num("Validation fraction", "cfg_val_fraction", 0.0, 0.9, 0.05)
        _num("L2 reg", "cfg_reg", 0.0, 1e3, 1e-3, help="loss += 0.5 * reg * |W|^2")


def _optimizer_fields() -> None:
    st.selectbox("Optimizer", OPTIMIZERS, key="cfg_optimizer",
                 help="; ".join(f"{o}: {CONFIG_FIELDS_USED_BY.get(o, ', '.join(hyperparameters(o)))}"
                                for o in OPTIMIZERS))
    c1, c2 = st.columns(2)
    with c1:
        _num("momentum (sgd, rmsprop)", "cfg_momentum", 0.0, 0.9999, 0.1)
        _num("alpha (rmsprop)", "cfg_alpha", 0.0, 0.9999, 0.01)
        _num("beta1 (adam)", "cfg_beta1", 0.0, 0.9999, 0.01)
        _num("eps (empty = default)", "cfg_eps", None, 1.0, None)
    with c2:
        st.checkbox("nesterov (sgd)", key="cfg_nesterov")
        _num("weight_decay", "cfg_weight_decay", 0.0, 1e3, 1e-4)
        _num("beta2 (adam)", "cfg_beta2", 0.0, 0.9999, 0.001)


def _schedule_fields() -> None:
    st.selectbox("lr scaling with B", LR_SCALING, key="cfg_lr_scaling",
                 help="linear: lr * B / B_ref (Goyal et al.); sqrt: lr * sqrt(B / B_ref)")
    _num("Reference batch size B_ref", "cfg_ref_batch_size", 1, HOSTED_MAX_SAMPLES, 1, "%d")
    st.selectbox("Schedule", SCHEDULES, key="cfg_schedule")
    c1, c2 = st.columns(2)
    with c1:
        _num("step: every (epochs)", "cfg_step_epochs", 1e-6, 1e9, 1.0)
        _num("decay rate / epoch", "cfg_decay", 0.0, 1e6, 0.05, help="exponential, inverse_time")
    with c2:
        _num("step: factor gamma", "cfg_gamma", 1e-6, 1.0, 0.1)
        _num("warmup (epochs)", "cfg_warmup_epochs", 0.0, 1e6, 0.5)


def _budget_fields() -> None:
    st.radio("Budget in", BUDGET_UNITS, key="cfg_budget_unit", horizontal=True)
    _num("Budget", "cfg_budget", 0.0, 1e12, 1.0)
    st.radio("Sampling", SAMPLING, key="cfg_sampling", horizontal=True,
             help="shuffle: each example once per epoch; replacement: independent draws")
    _num("Seeds (runs per batch size)", "cfg_n_seeds", 1, 16, 1, "%d")


def _advanced_fields() -> None:
    st.text_input("Learning-rate sweep (comma-separated; overrides the slider)", key="cfg_lr_sweep")
    _num("First seed", "cfg_first_seed", 0, 2**32 - 1, 1, "%d")
    _num("Data seed", "cfg_data_seed", 0, 2**32 - 1, 1, "%d")
    st.selectbox("dtype", DTYPES, key="cfg_dtype")
    st.checkbox("Standardize features", key="cfg_standardize")
    _num("Checkpoints per run", "cfg_n_checkpoints", 1, 5000, 10, "%d")
    _num("Evaluation examples", "cfg_eval_examples", 100, HOSTED_MAX_SAMPLES, 1000, "%d")


# The closed expanders of the form: (label, expander key, widgets; SECTION_KEYS lists their keys). Their
# widgets are drawn only once the expander has been opened in this session; until then the saved keys hold them.
# "Problem and data" comes first, under the caption that summarises it; its widgets take the CSV's columns.
LAZY_SECTIONS = (("Problem and data", "exp_problem", _problem_fields),
                 ("Optimizer", "exp_optimizer", _optimizer_fields),
                 ("Schedule and batch-size scaling", "exp_schedule", _schedule_fields),
                 ("Budget, sampling, seeds", "exp_budget", _budget_fields),
                 ("Advanced", "exp_advanced", _advanced_fields))


def problem_summary(v: Mapping) -> str:
    """One line of Markdown on the problem and data the form's values `v` (`cfg_*` keys) describe: what the
    collapsed "Problem and data" section holds, e.g. "**softmax** on **blobs** · 1,000 examples · 2 features ·
    3 classes · noise 0.5"."""
    problem, dataset = v["cfg_problem"], v["cfg_dataset"]
    head = f"**{problem}**" + (f" ({v['cfg_hidden']:,} hidden units)" if problem == "mlp" else "")
    if dataset == "csv":
        parts = [f"{head} on **your CSV**", f"target `{v['cfg_target']}`" if v["cfg_target"] else "no target yet"]
    else:
        parts = [f"{head} on **{dataset}**", f"{int(v['cfg_n_samples']):,} examples",
                 f"{v['cfg_n_features']} feature{'s' if v['cfg_n_features'] != 1 else ''}"]
        if problem not in ("least_squares", "logistic"):
            parts.append(f"{v['cfg_n_classes']} classes")
        parts.append(f"noise {v['cfg_noise']:g}")
        if dataset == "linear" and v["cfg_condition_number"] != 1:
            parts.append(f"condition number {v['cfg_condition_number']:g}")
        if v["cfg_n_unique"]:
            parts.append(f"{int(v['cfg_n_unique']):,} unique")
    if v["cfg_label_noise"]:
        parts.append(f"{v['cfg_label_noise']:.0%} label noise")
    if v["cfg_reg"]:
        parts.append(f"L2 {v['cfg_reg']:g}")
    parts.append(f"{v['cfg_val_fraction']:.0%} validation")
    return " · ".join(parts)


def _order(v):
    return math.inf if v == "full" else float(v)


# -- view controls (outside the form: they restyle or re-summarise, never rerun the engine) -----------

def view_controls() -> dict:
    c1, c2, c3 = st.columns(3)
    return dict(log_y=c1.toggle("Log y axis", key="view_log_y"),
                show_batch_loss=c1.toggle("Mini-batch loss (faint)", value=True, key="view_batch_loss"),
                smoothing=c2.slider("Smoothing (EMA)", 0.0, 0.99, 0.0, 0.01, key="view_smoothing"),
                band=c3.radio("Seeds", ("minmax", "std", "none"), key="view_band", horizontal=True,
                              format_func={"minmax": "mean, min-max", "std": "mean ± std", "none": "mean"}.get))


METRIC_XS = ("epoch", "step", "wall_time_s", "examples_seen")


def metric_x_picker() -> str:
    """The x axis of the metric grid. Drawn only while the grid is shown; its choice is kept under a plain key
    (`_view_metric_x`) while it is not."""
    s = st.session_state
    s["view_metric_x"] = s.get("_view_metric_x", METRIC_XS[0])
    return st.selectbox("Metrics against", METRIC_XS, key="view_metric_x", on_change=_keep_metric_x, args=(s,))


def _keep_metric_x(state: MutableMapping) -> None:
    state["_view_metric_x"] = state["view_metric_x"]


def suggest_target(summary: pd.DataFrame, metric: str) -> float | None:
    """A target about half the runs reach: the median best loss of the runs that did not diverge."""
    ok = summary.loc[~summary["diverged"], f"best_{metric}"].to_numpy(dtype=float)
    ok = ok[np.isfinite(ok)]
    return float(f"{np.median(ok) * 1.05:.2g}") if len(ok) else None


def target_controls(summary: pd.DataFrame, config: ExperimentConfig) -> tuple[float | None, str]:
    s = st.session_state
    if s.get("_view_target_for") != config:  # a new experiment: a target that fits its losses
        s["_view_target_for"] = config
        s["view_target_metric"] = config.target_metric
        s["view_target_loss"] = config.target_loss or suggest_target(summary, config.target_metric)
    c1, c2 = st.columns(2)
    metric = c2.selectbox("Measured on", TARGET_METRICS, key="view_target_metric")
    target = c1.number_input("Target loss", format="%g", key="view_target_loss", step=0.01,
                             help="Steps / examples / seconds until each run first reaches it (no rerun).")
    return target, metric
