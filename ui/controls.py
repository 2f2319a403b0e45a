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
from ui.presets import HOSTED_MAX_SAMPLES, PRESETS
from ui.text import md_code, md_escape

LR_GRID = tuple(sorted({round(m * 10.0 ** e, 12) for e in range(-4, 2) for m in (1, 2, 5)} - {20.0, 50.0}))
BATCH_OPTIONS = ("1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "full")
CONFIG_FIELDS_USED_BY = {"sgd": "momentum, nesterov, weight_decay", "adagrad": "eps, weight_decay",
                         "rmsprop": "alpha, momentum, eps, weight_decay", "adam": "betas, eps, weight_decay"}


# -- widgets -----------------------------------------------------------------------------------------



def preset_picker() -> None:
    st.selectbox("Scenario", (CUSTOM, *PRESETS), key="cfg_preset", on_change=on_preset,
                 args=(st.session_state,), format_func=lambda k: PRESETS[k].title if k in PRESETS else
                 "custom (your settings)", help="Sets every control at once and runs it.")


def csv_upload() -> tuple[bytes | None, list[str]]:
    """An optional CSV (used when dataset = csv): its bytes (None unless the whole file reads with the chosen
    target, or the last column) and column names (the header's, if it reads). Checked on upload: each problem
    is one `CSV: ...` error, shown here; the form's Run then adds no second message (`form_state.on_submit`)."""
    s = st.session_state
    file = st.file_uploader("Your data (CSV, for dataset = csv)", type="csv", key="cfg_csv_file",
                            help="Numeric feature columns plus one target column; pick it in the form.")
    data, columns, problem = None, [], None
    if file is not None:
        data = file.getvalue()
        try:
            columns = read_csv_columns(io.BytesIO(data))
            target = s.get("cfg_target") if s.get("cfg_target") in columns else columns[-1]
            problem = _upload_problem(data, target)
        except ValueError as e:  # gd_core.data.csv.CSVError
            problem = str(e)
        if problem:
            st.error(f"CSV: {md_escape(problem)}")
    s["_csv_columns"], s["_csv_problem"] = columns, problem
    return (None if problem else data), columns


@st.cache_data(max_entries=8, show_spinner="Reading the CSV...")
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
        st.caption("Dataset set to **your CSV**: pick its target column under *Problem and data*, then **Run**.")
    with st.form("experiment", border=False):
        # no "Select all" row: Enter picks the first size that starts with what was typed, or adds a new one
        # Labelled "B = 32": typed digits match no label's start, so Enter adds exactly what was typed (Streamlit
        # picks the highlighted match on Enter, and refuses filter_mode=None with new options); "full" still does
        st.multiselect("Batch sizes B", s["_cfg_batch_sizes_options"], key="cfg_batch_sizes",
                       accept_new_options=True, select_all=False, filter_mode="prefix", format_func=batch_size_label,
                       help='One run per batch size: pick one, or type any size (or "full") and press Enter.')
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
                 help="least_squares needs a regression dataset (linear, diabetes); logistic needs 2 classes "
                      "(moons, circles, xor, breast_cancer, or blobs/spiral with 2).")
    st.selectbox("Dataset", (*DATASETS, *REAL_DATASETS, "csv"), key="cfg_dataset", format_func=dataset_label,
                 help=REAL_DATASET_HELP)
    st.selectbox("Target column (csv)", columns, key="cfg_target")
    c1, c2 = st.columns(2)
    with c1:
        _num("Samples (train + val)", "cfg_n_samples", 2, HOSTED_MAX_SAMPLES, 100, "%d", help=FIXED_HELP)
        _num("Classes", "cfg_n_classes", 2, 100, 1, "%d", help=FIXED_HELP)
        _num("Condition number", "cfg_condition_number", 1.0, 1e8, 10.0, help="linear only: kappa of X^T X / N")
        _num("Label noise", "cfg_label_noise", 0.0, 0.99, 0.05, help="fraction of training labels replaced at random")
        _num("MLP hidden units", "cfg_hidden", 1, 1024, 8, "%d")
    with c2:
        _num("Features", "cfg_n_features", 1, 1000, 1, "%d", help=FIXED_HELP)
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


REAL_DATASET_HELP = ("Generated: linear (regression), blobs, spiral, moons, circles, xor. Real (shipped with the "
                     "lab; sources and licences in gd_core/data/real_csv/PROVENANCE.md): " + "; ".join(
                         f"{name}: {s.title}, {s.n_samples:,} examples" for name, s in REAL.items()) +
                     ". A real dataset fixes samples, features and classes: the form's values for them are "
                     "not used, and show the set's after Run.")
FIXED_HELP = "A real dataset (iris, wine, breast_cancer, digits, diabetes) fixes this: the set's own value is used."


def dataset_label(name: str) -> str:
    """The dataset picker's label: real sets say so, with their size."""
    if name in REAL:
        s = REAL[name]
        return f"{name} (real, {s.n_samples:,} x {s.n_features})"
    return "your CSV" if name == "csv" else name


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
        target = v["cfg_target"]
        parts = [f"{head} on **your CSV**", f"target {md_code(target)}" if target else "no target yet"]
    elif dataset in REAL:
        s = REAL[dataset]
        parts = [f"{head} on the real **{dataset}** set", f"{s.n_samples:,} examples",
                 f"{s.n_features} features" + (" ({}x{} pixels)".format(*s.image_shape) if s.image_shape else "")]
        parts += [f"{s.n_classes} classes"] if s.n_classes else [f"target: {s.target}"]
        if v["cfg_n_unique"]:
            parts.append(f"{int(v['cfg_n_unique']):,} unique")
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
