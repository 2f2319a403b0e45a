"""The experiment form's state: `config_from_state` is the ONE place widget values become a config.

Widgets read their values from `st.session_state` (keys `cfg_*`), filled from a config by `config_to_state`
before they are drawn: that is how a share link, a preset and the defaults all set every control at once.
The form applies changes on Run (`on_submit` builds the config); view toggles live outside it.

The form's expanders are closed and lazy (ui/controls.py): their widgets are not drawn until the expander is
first opened. Streamlit deletes the key of a widget that is not drawn in a run, so every field's value also
lives under a plain key, `_saved_cfg_<field>`: set by presets and share links (`_apply`), updated on Run from
the widgets drawn in the last run (`on_submit`, which builds the config from the saved values), and written
back to the widget keys not drawn in the last run before the form is drawn (`init_state`).
No `st.*` calls: the functions take the session state (a mapping), so tests can drive them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from gd_core import ConfigError, ExperimentConfig
from gd_core.config import coerce_field
from ui.i18n import LANGS, t, translate
from ui.presets import PRESETS, preset_for, preset_view
from ui.share import fit_host_budget, fit_to_data, host_limits, read_query

CUSTOM = "custom"  # the scenario picker's entry for "your settings"
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


def batch_size_label(size: str) -> str:
    """How the batch-size picker shows a size (a tag or a row): `B = 32`, `full batch` (in the session's language)."""
    return t("form.full_batch") if size == "full" else f"B = {size}"


def batch_size_value(text: str) -> str:
    """A picker entry back to its size: `B = 32` or `32` -> `32`, `full batch` -> `full` (AppTest sends a new
    option's label, a browser what was typed; a user may type either)."""
    text = text.strip()
    if text in {translate(lang, "form.full_batch") for lang in LANGS}:
        return "full"
    head, eq, rest = text.partition("=")
    return rest.strip() if eq and head.strip() == "B" else text


def config_from_state(state, base: ExperimentConfig | None = None) -> ExperimentConfig:
    """The config the widget values (`cfg_*` keys of `state`) describe; fields without a widget come from
    `base`. Raises ConfigError."""
    return config_and_notes_from_state(state, base)[0]


def config_and_notes_from_state(state, base: ExperimentConfig | None = None) -> tuple[ExperimentConfig, list[str]]:
    """`config_from_state`, with batch sizes above the generated training set run as full batch (and a note
    saying so)."""
    base = base or ExperimentConfig()
    values = {k: state[f"cfg_{k}"] for k in SIMPLE}
    sweep = str(state.get("cfg_lr_sweep") or "").strip()
    lrs = coerce_field("lrs", sweep) if sweep else (state["cfg_lr"],)
    first = int(state["cfg_first_seed"])
    if values["dataset"] != "csv":
        values["target"] = None
    sizes = coerce_field("batch_sizes", [batch_size_value(str(b)) for b in state["cfg_batch_sizes"]])
    config = base.replace(  # built with full batch first: the sizes are fitted to its training set
        **values, csv_path=None, lrs=lrs, betas=(state["cfg_beta1"], state["cfg_beta2"]), batch_sizes=("full",),
        seeds=tuple(range(first, first + int(state["cfg_n_seeds"]))))
    n_train = config.n_train()
    return fit_to_data(config, n_train, sizes) if n_train is not None else (config.replace(batch_sizes=sizes), [])


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
        config, messages = read_query({k: query_params.get_all(k) for k in query_params}
                                      if hasattr(query_params, "get_all") else query_params)
        state["home_config"], state["home_messages"], state["home_error"] = config, messages, None
        state["cfg_preset"] = preset_for(config) or CUSTOM
        if state["cfg_preset"] in PRESETS:  # a link to a preset opens on its lesson's view too
            state.update(preset_view(state["cfg_preset"]))
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
        state.update(preset_view(key))


def on_submit(state: MutableMapping) -> None:
    for k in live_keys(state):  # the widgets drawn in the last run hold what the user submitted
        state[SAVED + k] = state[k]
    if state[SAVED + "cfg_dataset"] == "csv" and (state.get("_csv_problem") or not state.get("_csv_columns")):
        # the upload's own error is already on the page: no second message for the same problem
        state["home_error"] = None if state.get("_csv_problem") else (
            t("form.csv_needed"))
        return
    try:
        config, notes = config_and_notes_from_state(saved_values(state), base=state["home_config"])
        config, messages = host_limits(config)
        config, shrunk = fit_host_budget(config)
        messages = [*notes, *messages, *shrunk]
    except ConfigError as e:
        state["home_error"] = str(e)
        return
    _apply(state, config, messages)
