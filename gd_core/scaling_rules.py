"""Learning-rate scaling rules across batch sizes (Goyal et al. 2017): one config per rule, and a table of
what each rule reached at each batch size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import ExperimentConfig
from .results import summarize
from .scaling import runs_to_target

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
    """Per (rule, batch size): the scaled lr, the final loss after the equal-epochs budget, steps to target."""
    rows = []
    for name, log in logs.items():
        runs = runs_to_target(log, target, metric) if target is not None else summarize(log)
        for _, r in runs.iterrows():
            last = log[log["run_id"] == r["run_id"]].iloc[-1]
            final = float(r["final_train_loss"] if metric == "train_loss" else r["final_val_loss"])
            rows.append({"rule": name, "batch_size": int(r["batch_size"]), "lr": float(last["lr"]),
                         "final_loss": final if not r["diverged"] else np.nan, "diverged": bool(r["diverged"]),
                         "steps": int(r["steps"]),
                         "steps_to_target": float(r.get("steps_to_target", np.nan))})
    return pd.DataFrame(rows)
