"""Share links: the experiment config in the URL, only its non-default fields (`config.to_query()`).

The form's widgets are NOT bound to query params (a bound widget inside a form would change the URL before
Run); the URL is written from the config that was actually run. Everything read from a URL is untrusted:
it goes through `ExperimentConfig.from_query` (the same validator as any config) and host limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from urllib.parse import urlencode

from gd_core import ExperimentConfig, dataset_info, make_problem
from gd_core.config import (
    FIELD_KINDS,
    ConfigError,
    coerce_field,
    fit_batch_sizes,
    fixed_size_clashes,
    format_field,
    shown,
    training_examples,
)
from gd_core.train.limits import check_data_size, check_work_budget, estimate_peak_bytes, estimate_work
from ui import i18n
from ui.presets import HOSTED_MAX_SAMPLES

URL_FORBIDDEN = ("csv_path",)  # a server file path must never come from a link
HOST_TIME_LIMIT_S = 60.0  # a run past this stops (status time_limit) so a link cannot hog a shared host
HOST_MAX_WORK = 1e10  # gd_core.train.limits units: ~10-60 s on a small 2-core host; every preset is under 1e9
HOST_MAX_VALUES = 16_000_000  # n_samples x n_features of generated data: 128 MB as float64 (notes_scale: 12.8M)
HOST_MAX_BYTES = 512 * 2**20  # gd_core.train.limits.estimate_peak_bytes of one request; hosts have 690 MB-2.7 GB


MAX_LINK_VALUE_CHARS = 2_000  # the longest value a link of this app carries: 64 learning rates at ~20 characters
MAX_LINK_NAMES_SHOWN = 10


def link_values(params: Mapping) -> tuple[dict[str, str], list[str]]:
    """A link's parameters ({name: value or list of values, as repeated}) as {name: value}, with a message for
    every parameter that is not a config field, given more than once (the last is used), or too long (dropped)."""
    values, messages, unknown = {}, [], []
    for name, given in params.items():
        given = [given] if isinstance(given, str) else list(given)
        if name == i18n.PARAM:  # the page's language, read by ui.i18n (with its own message)
            continue
        if name not in FIELD_KINDS and name not in URL_FORBIDDEN:
            unknown.append(name)
            continue
        if not given:
            continue
        if len(given) > 1:
            messages.append(f"{name} is given {len(given)} times in the link; the last, {shown(given[-1])}, is used")
        if len(given[-1]) > MAX_LINK_VALUE_CHARS:
            messages.append(f"{name} must be at most {MAX_LINK_VALUE_CHARS:,} characters in a link; got "
                            f"{len(given[-1]):,} (default used)")
            continue
        values[name] = given[-1]
    if unknown:
        names = ", ".join(shown(n) for n in unknown[:MAX_LINK_NAMES_SHOWN])
        more = f" and {len(unknown) - MAX_LINK_NAMES_SHOWN:,} more" if len(unknown) > MAX_LINK_NAMES_SHOWN else ""
        messages.append(f"unknown link parameter{'s' if len(unknown) > 1 else ''} {names}{more}; ignored (a link "
                        "names config fields, e.g. ?lrs=0.05&batch_sizes=1,32,full)")
    return values, messages


def read_query(params: Mapping) -> tuple[ExperimentConfig, list[str]]:
    """Config from URL parameters (a value, or the list of a repeated parameter's values); bad values fall back
    to their defaults and come back as messages."""
    params, link_messages = link_values(params)
    messages = [*link_messages,
                *(f"{k} cannot be set from a link; ignored" for k in URL_FORBIDDEN if params.pop(k, None))]
    for field, clash in fixed_size_clashes(params).items():  # a real dataset's own sizes win over the link's
        messages.append(f"{clash} (the link's value is ignored)")
        del params[field]
    notes = _fit_query_batch_sizes(params)
    config, errors = ExperimentConfig.from_query(params)
    config, capped = host_limits(config)
    capped = [*notes, *capped]
    try:
        config, shrunk = fit_host_budget(config)
        capped += shrunk
    except ConfigError as e:  # the data itself is too large for this host (size or memory)
        config, shrunk = sizes_reset(config, e)
        capped += shrunk
    return config, [*messages, *(f"{e} (default used)" for e in errors), *capped]


SIZE_FIELDS = ("n_samples", "n_features", "n_classes", "hidden", "n_unique", "eval_examples")  # what data costs


def _resized(config: ExperimentConfig, **changes) -> tuple[ExperimentConfig, list[str]]:
    """`config` with new sizes (`changes`): an `n_unique` above the new training set dropped, the batch sizes fitted
    to it (a note each); raises ValueError (ConfigError) when the fields do not go together."""
    n_samples = changes.get("n_samples", config.n_samples)
    if config.n_unique is not None and config.n_unique > training_examples(n_samples, config.val_fraction):
        changes.setdefault("n_unique", None)
    probe = config.replace(**changes, batch_sizes=("full",))  # full batch first: n_train is then known
    return fit_to_data(probe, probe.n_train(), config.batch_sizes)


def _fitted_with(config: ExperimentConfig, **changes) -> tuple[ExperimentConfig, list[str]]:
    """`_resized`, then fitted to this host's budget; raises ValueError when it still does not fit."""
    fitted, notes = _resized(config, **changes)
    fitted, shrunk = fit_host_budget(fitted)
    return fitted, [*notes, *shrunk]


def _most_samples_that_fit(config: ExperimentConfig, least: int = 100) -> int | None:
    """The largest n_samples (>= least) with which generated data and every batch size fit this host's memory,
    and the work fits once fitted as for any request (fewer batch sizes, a lower budget), or None."""
    lo, hi = least, config.n_samples - 1
    if config.dataset == "csv" or hi < lo:
        return None
    best = None
    while lo <= hi:  # the memory grows with n_samples: bisect
        mid = (lo + hi) // 2
        try:
            fitted, _ = _resized(config, n_samples=mid)
            fits = _fits_memory(fitted, _shape(fitted))
            if fits:
                fit_host_budget(fitted)  # the work fits too
        except ValueError:
            fits = False
        best, lo, hi = (mid, mid + 1, hi) if fits else (best, lo, mid - 1)
    return best


def sizes_reset(config: ExperimentConfig, error: Exception) -> tuple[ExperimentConfig, list[str]]:
    """A link whose data or model is too large for this host: fewer samples if that is enough (generated data),
    else its size fields back to their defaults, every other field kept (the note names what changed); all
    defaults only if even that does not fit."""
    n = _most_samples_that_fit(config)
    if n is not None:
        try:
            fitted, notes = _fitted_with(config, n_samples=n)
            return fitted, [f"{error}; n_samples lowered from {config.n_samples:,} to {n:,} to fit, the rest of "
                            "the link applies", *notes]
        except ValueError:  # the work does not fit either: the sizes go back to their defaults
            pass
    defaults = ExperimentConfig()
    reset = {f: getattr(defaults, f) for f in SIZE_FIELDS if getattr(config, f) != getattr(defaults, f)}
    try:
        fitted, notes = _fitted_with(config, **reset)  # batch sizes fitted to the default-size data
    except ValueError:  # ConfigError included
        return defaults, [f"{error} (defaults used)"]
    return fitted, [f"{error}; {', '.join(reset)} set back to the defaults, the rest of the link applies", *notes]


def batch_size_note(too_large, n_train: int) -> str:
    sizes, several = ", ".join(f"{b:,}" for b in too_large), len(too_large) > 1
    return (f"batch size{'s' if several else ''} {sizes} {'are' if several else 'is'} larger than the {n_train:,} "
            f"training examples: run as full batch (B={n_train:,})")


def _fit_query_batch_sizes(params: dict) -> list[str]:
    """Rewrite a link's batch sizes (or the defaults) that exceed its generated training set to "full"; a note
    each. Bad values are left for `from_query` to report."""
    try:
        sizes = coerce_field("batch_sizes", params.get("batch_sizes") or ExperimentConfig().batch_sizes)
    except ConfigError:
        return []
    probe, _ = ExperimentConfig.from_query({**params, "batch_sizes": "full"})
    n_train = probe.n_train()
    if n_train is None:
        return []
    fitted, too_large = fit_batch_sizes(sizes, n_train)
    if not too_large:
        return []
    params["batch_sizes"] = format_field(fitted)
    return [batch_size_note(too_large, n_train)]


def fitted_notes(asked: ExperimentConfig, ran: ExperimentConfig, n_train: int | None) -> list[str]:
    """What changed between the config asked for and the one that ran (a CSV's, fitted once it was read)."""
    missing = [b for b in asked.batch_sizes if b not in ran.batch_sizes]
    too_large = [b for b in missing if b != "full" and n_train is not None and b > n_train]
    left_out = [b for b in missing if b not in too_large]
    notes = [batch_size_note(too_large, n_train)] if too_large else []
    if left_out:
        notes.append(left_out_note(left_out))
    if ran.budget != asked.budget:
        notes.append(budget_note(asked, ran))
    return notes


def left_out_note(left_out) -> str:
    several = len(left_out) > 1
    return (f"batch size{'s' if several else ''} {', '.join(map(str, left_out))} left out: with "
            f"{'them' if several else 'it'} this experiment is more work than this host allows "
            f"({HOST_MAX_WORK:.2g} units); run it whole with python -m gd_core run ...")


def budget_note(asked: ExperimentConfig, ran: ExperimentConfig) -> str:
    return (f"budget lowered from {asked.budget:g} to {ran.budget:g} {ran.budget_unit} to fit this host's work "
            f"budget ({HOST_MAX_WORK:.2g} units); run it whole with python -m gd_core run ...")


def fit_to_data(config: ExperimentConfig, n_train: int, batch_sizes=None) -> tuple[ExperimentConfig, list[str]]:
    """`config` with `batch_sizes` (default: its own) fitted to a training set of `n_train`: sizes above it
    run as full batch, and a note says so."""
    fitted, too_large = fit_batch_sizes(config.batch_sizes if batch_sizes is None else batch_sizes, n_train)
    config = config.replace(batch_sizes=fitted) if fitted != config.batch_sizes else config
    return config, [batch_size_note(too_large, n_train)] if too_large else []


def _shape(config: ExperimentConfig) -> dict:
    """The sizes the work budget needs, for generated data (checked against HOST_MAX_VALUES first)."""
    check_data_size(config.n_samples, config.n_features, HOST_MAX_VALUES)
    info = dataset_info(config.dataset)
    n_classes = info.fixed_n_classes or (config.n_classes if info.task == "classification" else None)
    n_params = make_problem(config.problem, config.n_features, n_classes, reg=config.reg,
                            hidden=config.hidden).n_params
    return dict(n_train=config.n_train(), n_params=n_params, n_features=config.n_features, n_outputs=n_classes or 1)


def _check(config: ExperimentConfig, n_train, n_params, n_features, n_outputs) -> None:
    check_work_budget(config, n_train, n_params, HOST_MAX_WORK, n_features=n_features, n_outputs=n_outputs,
                      max_bytes=HOST_MAX_BYTES)


def check_host_budget(config: ExperimentConfig) -> None:
    """Raise ConfigError if generated data would be too big or the work too long for this host (a CSV's size
    is known once read: `fit_host_budget` with its sizes, and run_experiment with max_work=HOST_MAX_WORK)."""
    if config.dataset != "csv":
        _check(config, **_shape(config))


def fit_host_budget(config: ExperimentConfig, **shape) -> tuple[ExperimentConfig, list[str]]:
    """`config` made to fit this host's work budget, every field kept but these, each with a note: the smallest
    batch sizes are left out one by one (B = 1 first: on a large set its steps' overhead is most of the work)
    while more than one remains, then the budget (epochs, steps or examples) is lowered. Raises ConfigError when
    the data or the memory is what does not fit. `shape`: the sizes of a CSV's data (generated: computed)."""
    if config.dataset == "csv" and not shape:
        return config, []
    shape = shape or _shape(config)
    full = shape["n_train"]
    size = lambda b: full if b == "full" else b  # noqa: E731
    if _fits(config, shape):
        return config, []
    if not _fits_memory(config, shape):  # the widest step is the largest batch's: leave those out
        too_wide, fitted = [], config
        while len(fitted.batch_sizes) > 1 and not _fits_memory(fitted, shape):
            too_wide.append(max(fitted.batch_sizes, key=size))
            fitted = fitted.replace(batch_sizes=tuple(b for b in fitted.batch_sizes if b != too_wide[-1]))
        if not _fits_memory(fitted, shape):
            _check(config, **shape)  # raises the whole request's memory message
        fitted, notes = fit_host_budget(fitted, **shape)
        return fitted, [f"batch size{'s' if len(too_wide) > 1 else ''} {', '.join(map(str, too_wide))} left "
                        f"out: more memory than this host allows ({HOST_MAX_BYTES / 2**20:,.0f} MB); run it "
                        "whole with python -m gd_core run ...", *notes]
    fitted, left_out = config, []
    while len(fitted.batch_sizes) > 1:
        smallest = min(fitted.batch_sizes, key=size)
        left_out.append(smallest)
        fitted = fitted.replace(batch_sizes=tuple(b for b in fitted.batch_sizes if b != smallest))
        if _fits(fitted, shape):
            break
    notes = [left_out_note(left_out)] if left_out else []
    if not _fits(fitted, shape):
        budget = fitted.budget
        work = estimate_work(fitted, shape["n_train"], shape["n_features"], shape["n_params"])
        for _ in range(20):  # work grows about linearly with the budget: a few tries from the ratio
            budget = _round_down(budget * HOST_MAX_WORK / work * 0.9, fitted.budget_unit)
            if budget <= 0:
                raise ConfigError(f"this experiment cannot fit this host's work budget ({HOST_MAX_WORK:.2g} units) "
                                  "even with one batch size and the smallest budget: fewer samples or features")
            fitted = fitted.replace(budget=budget)
            if _fits(fitted, shape):
                break
            work = estimate_work(fitted, shape["n_train"], shape["n_features"], shape["n_params"])
        notes.append(budget_note(config, fitted))
    _check(fitted, **shape)  # raises if nothing above was enough
    return fitted, notes


def _fits_memory(config: ExperimentConfig, shape: dict) -> bool:
    need = estimate_peak_bytes(config, shape["n_train"], shape["n_features"], shape["n_outputs"])
    return need <= HOST_MAX_BYTES


def _fits(config: ExperimentConfig, shape: dict) -> bool:
    try:
        _check(config, **shape)
    except ConfigError:
        return False
    return True


def _round_down(budget: float, unit: str) -> float:
    """Two significant digits, rounded down (whole steps and examples)."""
    if budget <= 0:
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(budget)) - 1)
    rounded = math.floor(budget / scale) * scale
    return float(math.floor(rounded)) if unit != "epochs" else float(f"{rounded:.2g}")


def host_limits(config: ExperimentConfig) -> tuple[ExperimentConfig, list[str]]:
    """Keep a hosted app small: cap n_samples at HOSTED_MAX_SAMPLES and at HOST_MAX_VALUES / n_features (the
    message says so)."""
    cap = min(HOSTED_MAX_SAMPLES, HOST_MAX_VALUES // config.n_features)
    if config.dataset != "csv" and config.n_samples > cap:
        try:
            capped, notes = _resized(config, n_samples=cap)
        except ValueError:
            return ExperimentConfig(), [f"n_samples={config.n_samples} is too large for this host and the "
                                        "rest of the config does not fit the cap; defaults used"]
        why = "" if cap == HOSTED_MAX_SAMPLES else (f" ({config.n_features:,} features: at most {HOST_MAX_VALUES:,} "
                                                    "numbers of data)")
        return capped, [f"n_samples capped from {config.n_samples:,} to {cap:,} on this host{why}; "
                        "run python -m gd_core run ... for the full scale", *notes]
    return config, []


def run_config(config: ExperimentConfig) -> ExperimentConfig:
    """The config actually computed here: the same, with a per-run time limit (identical numbers unless hit)."""
    limit = min(config.time_limit_s or HOST_TIME_LIMIT_S, HOST_TIME_LIMIT_S)
    return config.replace(time_limit_s=limit)


def time_limit_note(run_ids: list[str], limit_s: float, not_started: int = 0) -> str:
    """What the page says when runs stopped at the time limit (their curves end where they stopped) or did not
    start (the request's time was up)."""
    parts = [f"{len(run_ids)} run(s) stopped at the time limit of {limit_s:g} s per run and show their curves so far "
             f"(status time_limit): {', '.join(run_ids)}"] if run_ids else []
    if not_started:
        parts.append(f"{not_started} run(s) did not start: this host computes one request for at most "
                     f"{HOST_TIME_LIMIT_S:g} s")
    return "; ".join(parts)


def sync_query_params(query_params: MutableMapping[str, str], config: ExperimentConfig) -> None:
    """Make the URL's config fields exactly `config.to_query()`; other pages' parameters are left alone."""
    wanted = config.to_query()
    for key in [k for k in query_params if k in FIELD_KINDS and k not in wanted]:
        del query_params[key]
    changed = {k: v for k, v in wanted.items() if query_params.get(k) != v}
    if changed:
        query_params.update(changed)


def query_string(config: ExperimentConfig, lang: str = i18n.DEFAULT) -> str:
    """The relative link, e.g. `?problem=logistic&n_classes=2` (just `?` for the defaults), with `lang=ko` when
    the page is not in English."""
    return "?" + urlencode({**config.to_query(), **({i18n.PARAM: lang} if lang != i18n.DEFAULT else {})})
