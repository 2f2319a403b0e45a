"""When a run ends early, checked at its checkpoints and, in a long interval between two, every
`steps_between_checks` steps: past its own time limit or the whole call's deadline ("time_limit"), or when the
caller's should_stop() says so ("cancelled"). A check reads the clock and calls should_stop(); it never changes
what is computed (a B = 1 interval is cut at whole lazy blocks, where one_example.py starts a block anyway)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..fast.one_example import LAZY_BLOCK
from .limits import STEP_OVERHEAD

CHECK_WORK = 1e8  # work units (gd_core.train.limits) trained between two checks: ~0.1-0.6 s on 2 slow cores


class Stop:
    def __init__(self, time_limit_s: float | None, deadline: float | None = None,
                 should_stop: Callable[[], bool] | None = None):
        self.time_limit_s, self.deadline, self.should_stop = time_limit_s, deadline, should_stop

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def reason(self, started: float, can_cancel: bool = True) -> str | None:
        """"time_limit", "cancelled" or None for a run that started at perf_counter() `started`."""
        over = self.time_limit_s is not None and time.perf_counter() - started > self.time_limit_s
        if over or self.past_deadline():
            return "time_limit"
        if can_cancel and self.should_stop is not None and self.should_stop():
            return "cancelled"
        return None


def steps_between_checks(batch_size: int, n_params: int, n_features: int) -> int:
    """How many steps a run trains between two checks inside a long interval (B = 1: whole lazy blocks)."""
    steps = max(1, math.ceil(CHECK_WORK / (batch_size * (n_params + n_features) + STEP_OVERHEAD)))
    return math.ceil(steps / LAZY_BLOCK) * LAZY_BLOCK if batch_size == 1 else steps
