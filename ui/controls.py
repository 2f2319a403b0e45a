"""Widget builders for the experiment form (the sidebar); their state lives in `ui.form_state`.

The form's expanders are closed and lazy: their widgets are not drawn until the expander is first opened (a cold
page load draws ~38 fewer widgets; benchmarks/DASHBOARD.md); until then `ui.form_state` keeps their values.
Once opened, an expander's widgets are drawn (closed) in every later run. "Problem and data" is lazy too: a
caption above it states what it holds (`problem_summary`), and it opens by itself when a CSV is uploaded (the
target column is picked there).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

import streamlit as st

from gd_core import (
    DATASETS,
    LR_SCALING,
    OPTIMIZERS,
    PROBLEMS,
    REAL_DATASETS,
    SCHEDULES,
    ExperimentConfig,
    read_csv_columns,
)
from gd_core.config import BUDGET_UNITS, DTYPES, SAMPLING, training_examples
from gd_core.data.real import REAL
from gd_core.optim.optimizers import hyperparameters
from ui.cache import load_dataset
from ui.form_state import CUSTOM, batch_size_label, on_preset, on_submit, saved_values
from ui.i18n import t
from ui.presets import HOSTED_MAX_SAMPLES, PRESETS
from ui.text import md_code, md_escape

LR_GRID = tuple(sorted({round(m * 10.0 ** e, 12) for e in range(-4, 2) for m in (1, 2, 5)} - {20.0, 50.0}))
BATCH_OPTIONS = ("1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "full")
CONFIG_FIELDS_USED_BY = {"sgd": "momentum, nesterov, weight_decay", "adagrad": "eps, weight_decay",
                         "rmsprop": "alpha, momentum, eps, weight_decay", "adam": "betas, eps, weight_decay"}


# -- widgets -----------------------------------------------------------------------------------------



def preset_picker() -> None:
    st.selectbox(t("form.scenario"), (CUSTOM, *PRESETS), key="cfg_preset", on_change=on_preset,
                 args=(st.session_state,), format_func=lambda k: t(f"preset.{k}.title") if k in PRESETS else
                 t("form.scenario_custom"), help=t("form.scenario_help"))


def csv_upload() -> tuple[bytes | None, list[str]]:
    """An optional CSV (used when dataset = csv): its bytes (None unless the whole file reads with the chosen
    target, or the last column) and column names (the header's, if it reads). Checked on upload: each problem
    is one `CSV: ...` error, shown here; the form's Run then adds no second message (`form_state.on_submit`)."""
    s = st.session_state
    file = st.file_uploader(t("form.csv_file"), type="csv", key="cfg_csv_file",
                            help=t("form.csv_file_help"))
    data, columns, problem = None, [], None
    if file is not None:
        data = file.getvalue()
        try:
            columns = read_csv_columns(io.BytesIO(data))
            target = s.get("cfg_target") if s.get("cfg_target") in columns else columns[-1]
            with st.spinner(t("form.reading_csv")):
                problem = _upload_problem(data, target)
        except ValueError as e:  # gd_core.data.csv.CSVError
            problem = str(e)
        if problem:
            st.error(t("form.csv_error", error=md_escape(problem)))
    s["_csv_columns"], s["_csv_problem"] = columns, problem
    return (None if problem else data), columns


@st.cache_data(max_entries=8, show_spinner=False)  # the caller's spinner speaks the session's language
def _upload_problem(data: bytes, target: str) -> str | None:
    """What is wrong with an upload read with `target` as its target column (None: nothing), as a Run would
    read it (the hosted row cap included). Only the message is cached, not the data."""
    try:
        load_dataset(ExperimentConfig(dataset="csv", target=target), data)  # what a Run reads, with its checks
    except ValueError as e:
        return str(e)
    return None


def _num(label, key, lo=None, hi=None, step=None, fmt="%g", help=None):
    st.number_input(label, min_value=lo, max_value=hi, step=step, format=fmt, key=key, help=help)


def experiment_form(columns: list[str]) -> None:
    """The sidebar form; its Run button builds the config (`on_submit`)."""
    s = st.session_state
    if s.get("cfg_target") not in columns:
        s["cfg_target"] = columns[-1] if columns else None
    for key, options in (("cfg_lr", LR_GRID), ("cfg_batch_sizes", batch_options(saved_values(s)))):
        have = s[key] if isinstance(s[key], list) else [s[key]]
        s[f"_{key}_options"] = sorted({*options, *have}, key=_order)
    if columns and s.get("_problem_opened_for") != columns:  # a new upload: the form switches to it (dataset
        s["_problem_opened_for"], s["exp_problem"], s["_opened_exp_problem"] = columns, True, True  # csv) and opens
        s["cfg_dataset"] = "csv"  # the section with its target; Run applies it
    if columns and s.get("cfg_dataset") == "csv" and saved_values(s)["cfg_dataset"] != "csv":
        st.caption(t("form.csv_switched"))
    with st.form("experiment", border=False):
        # no "Select all" row: Enter picks the first size that starts with what was typed, or adds a new one
        # Labelled "B = 32": typed digits match no label's start, so Enter adds exactly what was typed (Streamlit
        # picks the highlighted match on Enter, and refuses filter_mode=None with new options); "full" still does
        st.multiselect(t("form.batch_sizes"), s["_cfg_batch_sizes_options"], key="cfg_batch_sizes",
                       accept_new_options=True, select_all=False, filter_mode="prefix", format_func=batch_size_label,
                       help=t("form.batch_sizes_help"))
        st.select_slider(t("form.lr"), s["_cfg_lr_options"], key="cfg_lr",
                         format_func=lambda v: f"{v:g}")
        st.caption(t("form.summary_hint", summary=problem_summary(saved_values(s))))
        boxes = [(st.expander(t(label), key=key, on_change="rerun"), key, fields)
                 for label, key, fields in LAZY_SECTIONS]
        for box, key, _ in boxes:  # lazy until first opened; then drawn even when closed, so an edit not yet
            if box.open:  # submitted survives closing the expander (the browser holds it, not the server)
                s[f"_opened_{key}"] = True
        s["_form_sections"] = tuple(key for _, key, _ in boxes if s.get(f"_opened_{key}"))
        for box, key, fields in boxes:
            if key in s["_form_sections"]:
                with box:
                    fields(columns) if fields is _problem_fields else fields()
        st.form_submit_button(t("form.run"), type="primary", key="cfg_run", on_click=on_submit, args=(s,))


def _problem_fields(columns: list[str]) -> None:
    st.selectbox(t("form.problem"), PROBLEMS, key="cfg_problem", help=t("form.problem_help"))
    st.selectbox(t("form.dataset"), (*DATASETS, *REAL_DATASETS, "csv"), key="cfg_dataset", format_func=dataset_label,
                 help=real_dataset_help())
    st.selectbox(t("form.target"), columns, key="cfg_target")
    fixed = t("form.fixed_help")
    c1, c2 = st.columns(2)
    with c1:
        _num(t("form.n_samples"), "cfg_n_samples", 2, HOSTED_MAX_SAMPLES, 100, "%d", help=fixed)
        _num(t("form.n_classes"), "cfg_n_classes", 2, 100, 1, "%d", help=fixed)
        _num(t("form.condition_number"), "cfg_condition_number", 1.0, 1e8, 10.0, help=t("form.condition_number_help"))
        _num(t("form.label_noise"), "cfg_label_noise", 0.0, 0.99, 0.05, help=t("form.label_noise_help"))
        _num(t("form.hidden"), "cfg_hidden", 1, 1024, 8, "%d")
    with c2:
        _num(t("form.n_features"), "cfg_n_features", 1, 1000, 1, "%d", help=fixed)
        _num(t("form.noise"), "cfg_noise", 0.0, 100.0, 0.1)
        _num(t("form.n_unique"), "cfg_n_unique", 1, HOSTED_MAX_SAMPLES, 1, "%d",
             help=t("form.n_unique_help"))
        _num(t("form.val_fraction"), "cfg_val_fraction", 0.0, 0.9, 0.05)
        _num(t("form.reg"), "cfg_reg", 0.0, 1e3, 1e-3, help=t("form.reg_help"))


def _optimizer_fields() -> None:
    st.selectbox(t("form.optimizer"), OPTIMIZERS, key="cfg_optimizer",
                 help="; ".join(f"{o}: {CONFIG_FIELDS_USED_BY.get(o, ', '.join(hyperparameters(o)))}"
                                for o in OPTIMIZERS))
    c1, c2 = st.columns(2)
    with c1:
        _num(t("form.momentum"), "cfg_momentum", 0.0, 0.9999, 0.1)
        _num(t("form.alpha"), "cfg_alpha", 0.0, 0.9999, 0.01)
        _num(t("form.beta1"), "cfg_beta1", 0.0, 0.9999, 0.01)
        _num(t("form.eps"), "cfg_eps", None, 1.0, None)
    with c2:
        st.checkbox(t("form.nesterov"), key="cfg_nesterov")
        _num(t("form.weight_decay"), "cfg_weight_decay", 0.0, 1e3, 1e-4)
        _num(t("form.beta2"), "cfg_beta2", 0.0, 0.9999, 0.001)


def _schedule_fields() -> None:
    st.selectbox(t("form.lr_scaling"), LR_SCALING, key="cfg_lr_scaling",
                 help=t("form.lr_scaling_help"))
    _num(t("form.ref_batch_size"), "cfg_ref_batch_size", 1, HOSTED_MAX_SAMPLES, 1, "%d")
    st.selectbox(t("form.schedule"), SCHEDULES, key="cfg_schedule")
    c1, c2 = st.columns(2)
    with c1:
        _num(t("form.step_epochs"), "cfg_step_epochs", 1e-6, 1e9, 1.0)
        _num(t("form.decay"), "cfg_decay", 0.0, 1e6, 0.05, help=t("form.decay_help"))
    with c2:
        _num(t("form.gamma"), "cfg_gamma", 1e-6, 1.0, 0.1)
        _num(t("form.warmup_epochs"), "cfg_warmup_epochs", 0.0, 1e6, 0.5)


def _budget_fields() -> None:
    st.radio(t("form.budget_unit"), BUDGET_UNITS, key="cfg_budget_unit", horizontal=True)
    _num(t("form.budget"), "cfg_budget", 0.0, 1e12, 1.0)
    st.radio(t("form.sampling"), SAMPLING, key="cfg_sampling", horizontal=True,
             help=t("form.sampling_help"))
    _num(t("form.n_seeds"), "cfg_n_seeds", 1, 16, 1, "%d")


def _advanced_fields() -> None:
    st.text_input(t("form.lr_sweep"), key="cfg_lr_sweep")
    _num(t("form.first_seed"), "cfg_first_seed", 0, 2**32 - 1, 1, "%d")
    _num(t("form.data_seed"), "cfg_data_seed", 0, 2**32 - 1, 1, "%d")
    st.selectbox(t("form.dtype"), DTYPES, key="cfg_dtype")
    st.checkbox(t("form.standardize"), key="cfg_standardize")
    _num(t("form.n_checkpoints"), "cfg_n_checkpoints", 1, 5000, 10, "%d")
    _num(t("form.eval_examples"), "cfg_eval_examples", 100, HOSTED_MAX_SAMPLES, 1000, "%d")


def real_dataset_help() -> str:
    """The dataset picker's help: the generated sets, then each real one (its title and size)."""
    return t("form.dataset_help", real="; ".join(t("form.real_entry", name=name, title=s.title, n=s.n_samples)
                                                for name, s in REAL.items()))


def dataset_label(name: str) -> str:
    """The dataset picker's label: real sets say so, with their size."""
    if name in REAL:
        s = REAL[name]
        return t("form.real_label", name=name, n=s.n_samples, d=s.n_features)
    return t("form.your_csv") if name == "csv" else name


# The closed expanders of the form: (label, expander key, widgets; SECTION_KEYS lists their keys). Their
# widgets are drawn only once the expander has been opened in this session; until then the saved keys hold them.
# "Problem and data" comes first, under the caption that summarises it; its widgets take the CSV's columns.
LAZY_SECTIONS = (("form.section_problem", "exp_problem", _problem_fields),  # (label's message id, key, widgets)
                 ("form.section_optimizer", "exp_optimizer", _optimizer_fields),
                 ("form.section_schedule", "exp_schedule", _schedule_fields),
                 ("form.section_budget", "exp_budget", _budget_fields),
                 ("form.section_advanced", "exp_advanced", _advanced_fields))


def problem_summary(v: Mapping) -> str:
    """One line of Markdown on the problem and data the form's values `v` (`cfg_*` keys) describe: what the
    collapsed "Problem and data" section holds, e.g. "**softmax** on **blobs** · 1,000 examples · 2 features ·
    3 classes · noise 0.5"."""
    problem, dataset = v["cfg_problem"], v["cfg_dataset"]
    head = f"**{problem}**"
    if problem == "mlp":
        head = t("summary_line.head_mlp", head=head, hidden=v["cfg_hidden"])
    if dataset == "csv":
        target = v["cfg_target"]
        parts = [t("summary_line.on_csv", head=head),
                 t("summary_line.target", target=md_code(target)) if target else t("summary_line.no_target")]
    elif dataset in REAL:
        s = REAL[dataset]
        features = t("summary_line.feature" if s.n_features == 1 else "summary_line.features", n=s.n_features)
        if s.image_shape:
            features += t("summary_line.pixels", h=s.image_shape[0], w=s.image_shape[1])
        parts = [t("summary_line.on_real", head=head, dataset=dataset), t("summary_line.examples", n=s.n_samples),
                 features]
        parts += ([t("summary_line.classes", n=s.n_classes)] if s.n_classes
                  else [t("summary_line.real_target", target=s.target)])
        if v["cfg_n_unique"]:
            parts.append(t("summary_line.unique", n=int(v["cfg_n_unique"])))
    else:
        parts = [t("summary_line.on_dataset", head=head, dataset=dataset),
                 t("summary_line.examples", n=int(v["cfg_n_samples"])),
                 t("summary_line.feature" if v["cfg_n_features"] == 1 else "summary_line.features",
                   n=v["cfg_n_features"])]
        if problem not in ("least_squares", "logistic"):
            parts.append(t("summary_line.classes", n=v["cfg_n_classes"]))
        parts.append(t("summary_line.noise", noise=v["cfg_noise"]))
        if dataset == "linear" and v["cfg_condition_number"] != 1:
            parts.append(t("summary_line.condition_number", kappa=v["cfg_condition_number"]))
        if v["cfg_n_unique"]:
            parts.append(t("summary_line.unique", n=int(v["cfg_n_unique"])))
    if v["cfg_label_noise"]:
        parts.append(t("summary_line.label_noise", fraction=v["cfg_label_noise"]))
    if v["cfg_reg"]:
        parts.append(t("summary_line.reg", reg=v["cfg_reg"]))
    parts.append(t("summary_line.validation", fraction=v["cfg_val_fraction"]))
    return " · ".join(parts)


def batch_options(v: Mapping) -> tuple[str, ...]:
    """The sizes the picker offers for the form's values `v`: those that fit the generated training set, and
    "full" (a CSV's size is known once it is read: larger sizes then run as full batch, with a note)."""
    if v["cfg_dataset"] == "csv":
        return BATCH_OPTIONS
    n_samples = REAL[v["cfg_dataset"]].n_samples if v["cfg_dataset"] in REAL else int(v["cfg_n_samples"])
    n_train = training_examples(n_samples, float(v["cfg_val_fraction"]))
    return tuple(o for o in BATCH_OPTIONS if o == "full" or int(o) <= n_train)


def _order(v) -> tuple:
    """Sort key of a picker option: numbers ascending, then "full", then anything else a user typed (which
    the Run button reports as a message)."""
    if v == "full":
        return (1, 0.0, "")
    try:
        x = float(v)
    except (TypeError, ValueError):
        return (2, 0.0, str(v))
    return (0, x, "") if math.isfinite(x) else (2, 0.0, str(v))
