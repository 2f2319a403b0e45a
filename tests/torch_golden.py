"""torch.optim trajectories recorded once, so every machine checks the optimizers against torch without torch.

Each case runs 50 steps of a torch.optim optimizer on a noisy 5-D quadratic: the gradient at step t is
`H @ w + noise[t]`, `lr` constant or `0.03 / (1 + 0.1 t)`. The inputs (H, noise, w0) are stored with the
trajectories, so the comparison does not depend on NumPy's random streams.

Record (needs torch: `pip install -r requirements-torch.txt`):

    python tests/torch_golden.py        # rewrites tests/data/torch_optim_trajectories.json

tests/optim/test_optimizers.py compares `gd_core.optim.optimizers` step by step with the file (no torch needed), and, in
the `torch` test group, re-derives the file's numbers with the installed torch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "torch_optim_trajectories.json"
STEPS, LR = 50, 0.03

# (optimizer, torch.optim hyperparameters): defaults and every option, alone and combined.
SETTINGS = [
    ("sgd", {}), ("sgd", {"momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("adagrad", {"lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.3}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1, "alpha": 0.9}),
    ("adam", {}), ("adam", {"betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True}),
    ("adam", {"amsgrad": True, "eps": 1e-3}),
]
CASES = [(name, hp, scheduled) for name, hp in SETTINGS for scheduled in (False, True)]


def case_id(name: str, hp: dict, scheduled: bool) -> str:
    """A stable key, e.g. `adam betas=(0.8, 0.99),amsgrad=True scheduled`."""
    opts = ",".join(f"{k}={v}" for k, v in sorted(hp.items())) or "defaults"
    return f"{name} {opts}{' scheduled' if scheduled else ''}"


def lr_at(scheduled: bool):
    """The learning rate of step t (0-based): constant, or inverse-time decay."""
    return (lambda t: LR / (1 + 0.1 * t)) if scheduled else (lambda t: LR)


def make_inputs(seed: int = 7) -> dict[str, np.ndarray]:
    """H (5, 5) symmetric positive definite, noise (STEPS, 5), w0 (5,)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((5, 5))
    return {"H": A @ A.T / 5 + 0.1 * np.eye(5), "noise": rng.standard_normal((STEPS, 5)),
            "w0": rng.standard_normal(5)}


def torch_trajectory(name: str, hp: dict, scheduled: bool, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """(STEPS, 5): torch.optim's weights after each step, in float64."""
    import torch

    H, noise, lr = inputs["H"], inputs["noise"], lr_at(scheduled)
    p = torch.tensor(inputs["w0"].copy(), dtype=torch.float64, requires_grad=True)
    cls = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
           "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}[name]
    opt = cls([p], lr=LR, **hp)
    out = np.empty((STEPS, p.numel()))
    for t in range(STEPS):
        opt.param_groups[0]["lr"] = lr(t)
        p.grad = torch.tensor(H @ p.detach().numpy() + noise[t])
        opt.step()
        out[t] = p.detach().numpy()
    return out


def load() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], str]:
    """(inputs, trajectories by case_id, the torch version that recorded them) from the committed file."""
    data = json.loads(PATH.read_text())
    inputs = {k: np.array(v, dtype=np.float64) for k, v in data["inputs"].items()}
    return inputs, {k: np.array(v, dtype=np.float64) for k, v in data["trajectories"].items()}, data["torch"]


def record() -> None:
    import torch

    inputs = make_inputs()
    data = {"torch": torch.__version__, "steps": STEPS, "lr": LR,
            "inputs": {k: v.tolist() for k, v in inputs.items()},
            "trajectories": {case_id(*c): torch_trajectory(*c, inputs).tolist() for c in CASES}}
    text = json.dumps(data, indent=1)  # floats as repr: an exact round trip
    text = re.sub(r"\[\s+([^\[\]]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    PATH.write_text(text + "\n")  # one row of numbers a line
    print(f"wrote {len(CASES)} trajectories of {STEPS} steps (torch {torch.__version__}) to {PATH}")


if __name__ == "__main__":
    record()
