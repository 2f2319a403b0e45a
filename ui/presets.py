"""Named scenarios: each is an ExperimentConfig (so also a share link) plus one sentence on what to look for.

Every preset computes in a few seconds on a small host (times: benchmarks/results/2026-12-07-code-comments.md).
The notes' ImageNet-scale scenario (1.2M examples, B = 256) is capped to HOSTED_MAX_SAMPLES here; the
full-scale command line is given next to it.
"""

from __future__ import annotations

from typing import NamedTuple

from gd_core import ExperimentConfig

NOTES_SCALE_SAMPLES = 1_200_000  # cs231n: B = 256 out of 1.2M ImageNet images
HOSTED_MAX_SAMPLES = 200_000  # what computes in a few seconds on a small host (times: benchmarks/results/)


# The home page's view (ui.chart_controls and the metrics toggle in app.py) as a preset leaves it: the defaults,
# then the preset's own `view` (session-state keys -> values), so its lesson is on screen without a click.
VIEW_DEFAULTS = {"view_log_y": False, "view_batch_loss": False, "view_metrics": False, "_view_metric_x": "epoch"}


class Preset(NamedTuple):
    title: str
    config: ExperimentConfig
    look_for: str
    full_scale: ExperimentConfig | None = None  # the uncapped scenario, for the command line
    view: tuple[tuple[str, object], ...] = ()  # (VIEW_DEFAULTS key, value) pairs this preset changes


_SCALE = dict(n_features=64, n_classes=10, noise=2.0, val_fraction=0.01, batch_sizes=(256,), budget=1.0,
              n_checkpoints=50, eval_examples=10_000)

PRESETS: dict[str, Preset] = {
    "three_loops": Preset(
        "The notes' three loops (default)", ExperimentConfig(),
        "Per epoch (equal data) SGD (B=1) makes 800 noisy updates and gets furthest; full batch makes 10 smooth "
        "ones and stays highest. Per update (middle panel) B=32, 256 and full batch fall together: early on 32 "
        "examples point where all 800 do, so an update of the full gradient buys no more than one of B=32. "
        "SGD's one-example steps start out behind them and wander; its lead per epoch costs 800 updates to "
        "full batch's one, and against wall-clock that per-step overhead shows."),
    "notes_scale": Preset(
        "The notes' scale: B = 256 on a large set (capped)",
        ExperimentConfig(n_samples=HOSTED_MAX_SAMPLES, **_SCALE),
        "One epoch of B=256 mini-batches is hundreds of updates here (thousands at 1.2M): the loss is mostly "
        "down a quarter of the way into the epoch, which is why nobody computes the full gradient on 1.2M images.",
        full_scale=ExperimentConfig(n_samples=NOTES_SCALE_SAMPLES, **_SCALE)),
    "ill_conditioned": Preset(
        "Ill-conditioned least squares (kappa ~ 100)",
        ExperimentConfig(problem="least_squares", dataset="linear", n_features=10, condition_number=100.0,
                         noise=0.1, lrs=(0.015,), budget=50.0),
        "lr must stay below 2/lambda_max (~0.019) for the steep direction, so full batch crawls along the flat "
        "one (log y axis: after 50 epochs it is still highest); a single example is far steeper than the "
        "average, so B=1 diverges (x marker).",
        view=(("view_log_y", True),)),
    "redundant": Preset(
        "Redundant data: 10 unique examples repeated to 2000",
        ExperimentConfig(n_samples=2500, n_unique=10, budget=5.0),
        "A batch of 32 copies of 10 examples says what the full batch says at 1/60 of the cost: per update "
        "B=32 and full batch fall together, so against examples seen small batches win by far; the full "
        "gradient buys nothing."),
    "noisy_labels": Preset(
        "Noisy labels (30%) with a small MLP",
        ExperimentConfig(problem="mlp", dataset="spiral", n_samples=300, hidden=256, label_noise=0.3,
                         batch_sizes=(16, "full"), optimizer="adam", lrs=(0.01,), budget=300.0),
        "Training loss is measured on corrupted labels, validation on clean ones (the panels below): the "
        "B=16 run keeps lowering its training loss while its validation loss turns up after ~50 epochs, as "
        "it fits the noise; full batch, with 300 updates, has not started to.",
        view=(("view_metrics", True),)),
}


def preset_view(key: str) -> dict:
    """The view a preset opens with: VIEW_DEFAULTS updated by its `view`."""
    view = dict(PRESETS[key].view)
    unknown = set(view) - set(VIEW_DEFAULTS)
    if unknown:
        raise ValueError(f"preset {key}: unknown view keys {sorted(unknown)}; allowed: {sorted(VIEW_DEFAULTS)}")
    return {**VIEW_DEFAULTS, **view}


def preset_for(config: ExperimentConfig) -> str | None:
    """The preset key whose config equals `config`, if any."""
    return next((k for k, p in PRESETS.items() if p.config == config), None)


def cli_command(config: ExperimentConfig, out: str = "log.csv") -> str:
    """`python -m gd_core run` with the config's non-default fields (accepted by the CLI's --set)."""
    sets = " ".join(f"--set {k}={v}" for k, v in config.to_query().items())
    return f"python -m gd_core run {sets} --out {out}".replace("  ", " ")
