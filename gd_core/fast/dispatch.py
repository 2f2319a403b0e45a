"""Which fast path a run takes: the registry of what each path supports, and the one place that picks.

Every path computes what the reference loop (`train/reference.py`) computes, to float rounding; the
equivalence tests (tests/fast/test_dispatch.py) are parametrised over this registry, each path against the
reference. One run (`train/loop.make_advance`) takes the first of SINGLE_RUN_PATHS that supports it, else
GENERIC; the runs of one batch size train side by side where STACKED supports them (`train/stacked.stack_groups`).

A new problem is listed in no fast path until someone writes its kernels: it runs GENERIC (its own
`loss_and_grad` and the in-place update rule), and `lacking(name)` names the paths it lacks.
"""

from __future__ import annotations

from typing import NamedTuple

from ..problems import PROBLEMS
from .kernels import LINEAR_MODELS


class FastPath(NamedTuple):
    name: str
    problems: tuple[str, ...]  # the problems it has kernels for
    optimizers: tuple[str, ...] | None  # None: any
    plain_sgd: bool  # only plain SGD: no momentum, no weight decay (the update is fused into the gradient)
    batches: str  # which batch sizes, in words
    code: str  # where it is


LINEAR = tuple(kind.name for kind in LINEAR_MODELS)  # least_squares, logistic, softmax
ONE_EXAMPLE = FastPath("one_example", LINEAR, ("sgd",), True, "B = 1 (sampled, not the full set)",
                       "fast/one_example.py one_example_sgd")
GATHERED = FastPath("gathered", LINEAR, None, False, "1 < B <= half a gathered chunk (train/loop.gather_rows)",
                    "train/loop.py _Gathered, fast/kernels.py bind_gradient(ones_column=True)")
FULL_CHUNKED = FastPath("full_chunked", LINEAR, None, False,
                        "the full set, of at least train/loop.FULL_CHUNKED_MIN rows",
                        "fast/full_batch.py bind_full_gradient")
STACKED = FastPath("stacked", LINEAR, ("sgd", "adam"), False,
                   "below train/runner.SMALL_BATCH and the set, two runs or more of one batch size",
                   "train/stacked.py, fast/stacked_kernels.py, fast/stacked_window.py")
GENERIC = FastPath("generic", PROBLEMS, None, False, "any",
                   "fast/kernels.py bind_gradient (loss_and_grad for a problem without kernels), optim make_updater")
SINGLE_RUN_PATHS = (ONE_EXAMPLE, GATHERED, FULL_CHUNKED)
FAST_PATHS = (*SINGLE_RUN_PATHS, STACKED)


def supports(path: FastPath, problem: str, optimizer: str, hp: dict | None = None) -> bool:
    """Whether `path` has kernels for this problem and optimizer (hyperparameters `hp`); batch sizes aside."""
    hp = hp or {}
    if problem not in path.problems or (path.optimizers is not None and optimizer not in path.optimizers):
        return False
    return not path.plain_sgd or (not hp.get("momentum", 0.0) and not hp.get("weight_decay", 0.0))


def lacking(problem: str) -> list[str]:
    """The fast paths without kernels for `problem` (it runs GENERIC where it would have taken them)."""
    return [p.name for p in FAST_PATHS if problem not in p.problems]


def single_run_path(problem: str, optimizer: str, hp: dict, batch_size: int, n: int, full: bool,
                    gather_rows: int, full_min: int) -> FastPath:
    """The path one run takes: `batch_size` of `n` rows (`full`: the sampler hands out the whole set in order),
    `gather_rows` rows gathered at once by GATHERED, FULL_CHUNKED from `full_min` rows."""
    if batch_size == 1 and not full and supports(ONE_EXAMPLE, problem, optimizer, hp):
        return ONE_EXAMPLE
    if 1 < batch_size <= gather_rows // 2 and not full and supports(GATHERED, problem, optimizer, hp):
        return GATHERED
    if full and n >= full_min and supports(FULL_CHUNKED, problem, optimizer, hp):
        return FULL_CHUNKED
    return GENERIC


def stackable(problem: str, optimizer: str) -> bool:
    """Whether runs of this problem and optimizer may train side by side (STACKED; batch sizes aside)."""
    return supports(STACKED, problem, optimizer)
