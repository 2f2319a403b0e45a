"""Learning-rate scaling rules across batch sizes (Goyal et al. 2017): one config per rule, and a table of
what each rule reached at each batch size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ExperimentConfig
from ..results import summarize
from .scaling import runs_to_target

TABLE_COLUMNS = ("rule", "batch_size", "lr", "final_loss", "diverged", "steps", "steps_to_target")
RULES = {"fixed lr": ("none", False), "linear + warmup": ("linear", True), "sqrt": ("sqrt", False)}


def rule_configs(base: ExperimentConfig, ref_batch_size: int, ref_lr: float, batch_sizes, epochs: float = 5.0,
                 warmup_epochs: float = 1.0, n_checkpoints: int = 50) -> dict[str, ExperimentConfig]:
    """One config per rule in RULES: lr tuned at `ref_batch_size`, scaled to every batch size, equal epochs.

    lr(B) = ref_lr (fixed), ref_lr * B/B_ref with a linear warmup from ref_lr over `warmup_epochs` (linear),
    ref_lr * sqrt(B/B_ref) (sqrt).
    """
    out = {}
    for name, (rule, warm) in RULES.items():
        out[name] = base.replace(batch_sizes=tuple(int(b) for b in batch_sizes), lrs=(float(ref_lr),),
                                 lr_scaling=rule, ref_batch_size=int(ref_batch_size),
                                 warmup_epochs=float(warmup_epochs) if warm else 0.0, budget_unit="epochs",
                                 budget=float(epochs), n_checkpoints=n_checkpoints, schedule="constant")
    return out


def rules_table(logs: dict[str, pd.DataFrame], target: float | None, metric: str = "train_loss") -> pd.DataFrame:
    """Per (rule, batch size): the scaled lr, the final loss after the equal-epochs budget, steps to target.

    The rules' logs are summarised together (their run ids tagged with the rule): one summary, not one per rule
    and a row mask per run (several times faster a scaling-page rerun:
    benchmarks/results/2026-12-07-code-comments.md)."""
    logs = {name: log for name, log in logs.items() if len(log)}
    if not logs:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    tagged = [lg.assign(run_id=f"{i}|" + lg["run_id"].astype(str)) for i, lg in enumerate(logs.values())]
    rule_of = {rid: name for name, lg in zip(logs, tagged, strict=True) for rid in lg["run_id"].unique()}
    log = pd.concat(tagged, ignore_index=True)
    runs = runs_to_target(log, target, metric) if target is not None else summarize(log)
    last_lr = log.groupby("run_id", sort=False)["lr"].last().reindex(runs["run_id"]).to_numpy(float)
    diverged = runs["diverged"].to_numpy(bool)
    final = runs["final_train_loss" if metric == "train_loss" else "final_val_loss"].to_numpy(float)
    return pd.DataFrame({
        "rule": runs["run_id"].map(rule_of).to_numpy(object),
        "batch_size": runs["batch_size"].to_numpy(int),
        "lr": last_lr,
        "final_loss": np.where(diverged, np.nan, final),
        "diverged": diverged,
        "steps": runs["steps"].to_numpy(int),
        "steps_to_target": (runs["steps_to_target"].to_numpy(float) if "steps_to_target" in runs
                            else np.full(len(runs), np.nan)),
    })
