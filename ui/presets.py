"""Named scenarios: each is an ExperimentConfig (so also a share link) plus one sentence on what to look for.

Every preset computes in a few seconds on a small host (times measured on a 2-core machine in the report).
The notes' ImageNet-scale scenario (1.2M examples, B = 256) is capped to HOSTED_MAX_SAMPLES here; the
full-scale command line is given next to it.
"""

from __future__ import annotations

from typing import NamedTuple

from gd_core import ExperimentConfig

NOTES_SCALE_SAMPLES = 1_200_000  # cs231n: B = 256 out of 1.2M ImageNet images
HOSTED_MAX_SAMPLES = 200_000  # what computes in ~2-3 s here; 400k takes ~6 s


class Preset(NamedTuple):
    title: str
    config: ExperimentConfig
    look_for: str
    full_scale: ExperimentConfig | None = None  # the uncapped scenario, for the command line


_SCALE = dict(n_features=64, n_classes=10, noise=2.0, val_fraction=0.01, batch_sizes=(256,), budget=1.0,
              n_checkpoints=50, eval_examples=10_000)

PRESETS: dict[str, Preset] = {
    "three_loops": Preset(
        "The notes' three loops (default)", ExperimentConfig(),
        "Per epoch SGD (B=1) makes 800 noisy updates and gets furthest; full batch makes 10 smooth ones. "
        "Against updates the order flips, and against wall-clock the per-step overhead shows."),
    "notes_scale": Preset(
        "The notes' scale: B = 256 on a large set (capped)",
        ExperimentConfig(n_samples=HOSTED_MAX_SAMPLES, **_SCALE),
        "One epoch of B=256 mini-batches is thousands of updates: the loss is mostly down long before the "
        "epoch ends, which is why nobody computes the full gradient on 1.2M images.",
        full_scale=ExperimentConfig(n_samples=NOTES_SCALE_SAMPLES, **_SCALE)),
    "ill_conditioned": Preset(
        "Ill-conditioned least squares (kappa ~ 100)",
        ExperimentConfig(problem="least_squares", dataset="linear", n_features=10, condition_number=100.0,
                         noise=0.1, lrs=(0.015,), budget=50.0),
        "lr must stay below 2/lambda_max (~0.019) for the steep direction, so full batch crawls along the flat "
        "one; a single example is far steeper than the average, so B=1 diverges (x marker)."),
    "redundant": Preset(
        "Redundant data: 10 unique examples repeated to 2000",
        ExperimentConfig(n_samples=2500, n_unique=10, budget=5.0),
        "A batch of 32 copies of 10 examples says what the full batch says at 1/60 of the cost: against "
        "examples seen, small batches win by far; the full gradient buys nothing."),
    "noisy_labels": Preset(
        "Noisy labels (30%) with a small MLP",
        ExperimentConfig(problem="mlp", dataset="spiral", n_samples=600, hidden=64, label_noise=0.3,
                         batch_sizes=(16, "full"), optimizer="adam", lrs=(0.01,), budget=200.0),
        "Training loss is measured on corrupted labels, validation on clean ones: the two curves part, and "
        "the small-batch run starts to fit the noise (validation loss turns up while training loss falls)."),
}


def preset_for(config: ExperimentConfig) -> str | None:
    """The preset key whose config equals `config`, if any."""
    return next((k for k, p in PRESETS.items() if p.config == config), None)


def cli_command(config: ExperimentConfig, out: str = "log.csv") -> str:
    """`python -m gd_core run` with the config's non-default fields (accepted by the CLI's --set)."""
    sets = " ".join(f"--set {k}={v}" for k, v in config.to_query().items())
    return f"python -m gd_core run {sets} --out {out}".replace("  ", " ")
