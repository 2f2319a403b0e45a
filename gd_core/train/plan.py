"""The plan of a comparison, before anything runs: its runs (seed, batch size, lr), each run's steps, the
evaluation subsample's size, and the optimizer hyperparameters the config gives. Shared by the runner, the work
and memory estimates (`limits.py`) and the studies in `gd_core.science`."""

from __future__ import annotations

from typing import NamedTuple

from ..config import ConfigError, ExperimentConfig
from ..data.batching import examples_after, steps_for_examples, steps_per_epoch
from ..optim.schedules import make_schedule, scale_lr
from .checkpoints import extra_checkpoints

EVAL_SHARE = 0.1  # checkpoint metrics on a subsample may cost about this share of training
MIN_EVAL = 256  # a subsample never smaller than this: one fixed subset, so the curve stays smooth; its level
# is within several % of the full-set loss (the last row also has the exact `train_loss_full`); the sizes' costs
# are in benchmarks/results/2026-12-07-code-comments.md


class RunSpec(NamedTuple):
    run_id: str
    batch_size: int
    base_lr: float
    seed: int


def plan_runs(config: ExperimentConfig, n_train: int) -> list[RunSpec]:
    for b in config.batch_sizes:
        if b != "full" and b > n_train:
            raise ConfigError(f'batch_size must be in [1, {n_train}] (the training examples) or "full"; got {b}')
    return [RunSpec(f"B={b} lr={lr_label(lr)} seed={s}", b, lr, s)
            for s in config.seeds for b in config.resolved_batch_sizes(n_train) for lr in config.lrs]


def lr_label(lr: float) -> str:
    """A learning rate as run ids show it: short (`0.1`, `1e+06`), and distinct for distinct rates."""
    short = f"{lr:g}"
    return short if float(short) == lr else repr(float(lr))


def total_steps(config: ExperimentConfig, n: int, batch_size: int) -> int:
    if config.budget_unit == "steps":
        return int(config.budget)
    examples = config.budget * n if config.budget_unit == "epochs" else config.budget
    return max(1, steps_for_examples(examples, n, batch_size, config.sampling))


def optimizer_hyperparameters(config: ExperimentConfig) -> dict:
    """The config's hyperparameters that the chosen optimizer takes (names as torch.optim)."""
    hp = {"weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        hp.update(momentum=config.momentum, nesterov=config.nesterov)
    elif config.optimizer == "rmsprop":
        hp.update(alpha=config.alpha, momentum=config.momentum)
    elif config.optimizer == "adam":
        hp.update(betas=config.betas)
    if config.eps is not None and config.optimizer != "sgd":
        hp["eps"] = config.eps
    return hp


def eval_size(config: ExperimentConfig, n_train: int, specs: list[RunSpec]) -> int:
    """How many examples each checkpoint measures on.

    Sets of at most `eval_examples` are measured whole. Larger ones use one fixed seeded subsample, shared
    by every run, sized so that a run's checkpoints (n_checkpoints and the log-spaced ones
    `checkpoints.extra_checkpoints` adds; each about three passes over the subsample: loss and gradient,
    accuracy, validation) cost about EVAL_SHARE of the shortest run's training.
    """
    if n_train <= config.eval_examples:
        return config.eval_examples
    trained = min(examples_after(total_steps(config, n_train, s.batch_size), n_train, s.batch_size, config.sampling)
                  for s in specs)
    affordable = int(EVAL_SHARE * trained / (3 * (config.n_checkpoints + extra_checkpoints(config.n_checkpoints))))
    return max(MIN_EVAL, min(config.eval_examples, affordable))


def run_schedule(config: ExperimentConfig, n: int, batch_size: int, base_lr: float, steps: int | None = None):
    """The lr at each step of a run: the base lr scaled to its batch size, then the config's schedule over the
    run's `steps` (default: its total steps)."""
    steps = total_steps(config, n, batch_size) if steps is None else steps
    lr0 = scale_lr(base_lr, batch_size, config.lr_scaling, config.ref_batch_size)
    return make_schedule(
        config.schedule, lr0, steps_per_epoch=steps_per_epoch(n, batch_size, config.sampling), total_steps=steps,
        warmup_epochs=config.warmup_epochs, warmup_from=base_lr if config.lr_scaling != "none" else 0.0,
        step_epochs=config.step_epochs, gamma=config.gamma, decay=config.decay)
