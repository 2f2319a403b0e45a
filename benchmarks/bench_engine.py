"""Throughput of the engine's training loop against simple baselines, one epoch per (problem, batch size).

    python -m benchmarks.bench_engine [--quick] [--n 1200000] [--d 64] [--classes 10] [--dtype float32]
                                      [--batch-sizes 1,32,256,4096,full] [--problems softmax,least_squares]

Implementations (all in this process, on the same seeded arrays, plain SGD, the same batch order):
  engine/ck=200   gd_core.run_experiment, default 200 checkpoints; engine/ck=2 the same with 2 checkpoints
  naive           fancy-index copy per step, every temporary allocated, w -= lr*g
  torch-autograd  torch autograd + torch.optim.SGD; torch-manual: hand-written gradient, in-place ops
  sklearn         SGDClassifier(log_loss) / SGDRegressor partial_fit, B = 1 only (compiled per-sample SGD)
  blas-floor      the two matrix products of a full-batch step, timed alone
Stacked runs (R = 8 at B = 32, shared and independent orders; B = 1 per run-step against scikit-learn) follow
the table: run_experiment(stacked=True) against stacked=False on the same config.
Slow implementations time a fixed number of steps and extrapolate to an epoch ("steps" column shows
timed/epoch). Peak memory: tracemalloc peak of the allocations made during a separate short pass
(<= MEM_STEPS steps, the dataset itself excluded); numpy buffers are tracked, torch's are not (n/a).
Prototypes of engine changes follow the table (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from gd_core import BatchSampler, Dataset, ExperimentConfig, make_optimizer, make_problem, run_experiment
from gd_core.train.checkpoints import Evaluator

SETTLE_S = 0.3  # full batch: pause before each alternated measurement (spinning BLAS threads, see below)
PAIRED_ROUNDS = 4  # engine / naive alternations behind each ">= 1.5x naive" check (B > 1)
MEM_STEPS = 20  # steps of the tracemalloc pass (allocations are per step, so a few steps show the peak)
MAX_STEPS = 20_000  # numpy baselines: time at most this many steps, extrapolate the rest of the epoch
TORCH_STEPS = 3_000  # torch loops at small B (eager per-op overhead: 3-15 us per op)
SK_ROWS = 200_000  # scikit-learn: rows of one timed partial_fit epoch (per-sample cost)
N_VAL = 2_000
LR = {"softmax": 0.01, "least_squares": 0.005}  # small enough that no run diverges at B = 1


class Timing(NamedTuple):
    seconds: float  # for `steps` steps
    steps: int
    examples: int  # examples seen in those steps
    w: np.ndarray | None  # final flat weights (engine layout), for correctness checks


class Row(NamedTuple):
    problem: str
    batch: str
    impl: str
    steps: str  # "timed/epoch"
    ex_per_s: float
    us_per_step: float
    peak_mb: float  # NaN = not measured
    note: str = ""


# -- data -------------------------------------------------------------------------------------------------

def make_data(problem: str, n: int, d: int, classes: int, dtype="float32", seed: int = 0):
    """Seeded synthetic (X (n, d), y (n,)): softmax labels from a noisy linear teacher, LS y = Xw + noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32).astype(dtype, copy=False)
    if problem == "softmax":
        teacher = rng.standard_normal((d, classes)).astype(dtype) / math.sqrt(d)
        y = np.empty(n, np.int64)
        for i in range(0, n, 65_536):  # chunks bound the (rows, C) temporaries
            s = X[i:i + 65_536] @ teacher
            s += rng.gumbel(size=s.shape).astype(dtype)
            y[i:i + 65_536] = s.argmax(axis=1)
    else:
        w = rng.standard_normal(d).astype(dtype) / math.sqrt(d)
        y = X @ w
        y += 0.1 * rng.standard_normal(n).astype(dtype)
    return X, y


def make_dataset(problem, X, y, Xv, yv, classes) -> Dataset:
    """gd_core.Dataset over the arrays as they are (no standardisation copy)."""
    clf = problem == "softmax"
    return Dataset("bench", X, y, Xv, yv, "classification" if clf else "regression", classes if clf else None,
                   tuple(f"x{i}" for i in range(X.shape[1])),
                   tuple(str(c) for c in range(classes)) if clf else None)


def data_bytes(*arrays) -> int:
    return sum(a.nbytes for a in arrays)


def epoch_steps(n: int, B: int) -> int:
    return math.ceil(n / B)


def init_weights(problem, d, classes, dtype, seed=0) -> np.ndarray:
    """The engine's initial weights for `seed` (same rng stream as gd_core.train.runner)."""
    p = make_problem(problem, d, classes if problem == "softmax" else None)
    return p.init_params(np.random.default_rng([seed, 0]), dtype=np.dtype(dtype))


def batches(n: int, B: int, steps: int, seed: int = 0):
    """The engine's batch order: gd_core.BatchSampler with the runner's rng; None = full batch."""
    sampler = BatchSampler(n, B, "shuffle", np.random.default_rng([seed, 1, B]))
    for _ in range(steps):
        yield sampler.next()


# -- implementations: each returns Timing for `steps` steps ---------------------------------------------

def engine_config(problem, X, B, steps, lr, seed=0, n_checkpoints=200, classes=10) -> ExperimentConfig:
    n, d = X.shape
    return ExperimentConfig(
        problem=problem, dataset="blobs" if problem == "softmax" else "linear", n_samples=n, val_fraction=0.0,
        n_features=d, n_classes=classes, lrs=(lr,), batch_sizes=("full" if B >= n else B,), seeds=(seed,),
        budget_unit="steps", budget=steps, n_checkpoints=n_checkpoints, dtype=str(X.dtype))


class EngineTiming(NamedTuple):
    train_s: float  # summary wall_time_s: training only
    total_s: float  # the whole run_experiment call
    steps: int
    status: str
    final_train_loss: float
    log: object
    ckpt_s: float = 0.0  # time in the checkpoints' metric evaluation (checkpoints.Evaluator calls)
    n_ckpt: int = 0


@contextmanager
def timed_checkpoints():
    """Times the checkpoints' metric evaluation while the block runs: every checkpoints.Evaluator call (one
    checkpoint) and `many` call (a pool of checkpoints), the outermost only (`many` may call the evaluator):
    [seconds, calls]."""
    originals = Evaluator.__call__, Evaluator.many
    spent, depth = [0.0, 0], [0]

    def timing(method):
        def timed(self, w):
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return method(self, w)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    spent[0] += time.perf_counter() - t0
                    spent[1] += 1
        return timed

    Evaluator.__call__, Evaluator.many = (timing(m) for m in originals)
    try:
        yield spent
    finally:
        Evaluator.__call__, Evaluator.many = originals


def run_engine(problem, X, y, Xv, yv, B, steps, lr, classes, n_checkpoints=200, seed=0) -> EngineTiming:
    ds = make_dataset(problem, X, y, Xv, yv, classes)
    cfg = engine_config(problem, X, B, steps, lr, seed, n_checkpoints, classes)
    with timed_checkpoints() as spent:
        t0 = time.perf_counter()
        res = run_experiment(cfg, dataset=ds)
        total = time.perf_counter() - t0
    s = res.summary.iloc[0]
    return EngineTiming(float(s["wall_time_s"]), total, int(s["steps"]), str(s["status"]),
                        float(res.log["train_loss"].iloc[-1]), res.log, spent[0], spent[1])


def naive(problem, X, y, w0, B, steps, lr, classes, seed=0) -> Timing:
    """The straightforward loop: X[idx] copy per step, allocating temporaries, plain gradient."""
    n, d = X.shape
    C = classes if problem == "softmax" else 1
    W = w0[:d * C].reshape(d, C).copy() if problem == "softmax" else w0[:d].copy()
    b = w0[d * C:].copy()
    seen = 0
    t0 = time.perf_counter()
    for idx in batches(n, B, steps, seed):
        Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        k = len(yb)
        if problem == "softmax":
            scores = Xb @ W + b
            scores = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(scores)
            probs = probs / probs.sum(axis=1, keepdims=True)
            loss = -np.log(probs[np.arange(k), yb]).mean()
            dscores = probs.copy()
            dscores[np.arange(k), yb] -= 1
            dscores = dscores / k
            gW, gb = Xb.T @ dscores, dscores.sum(axis=0)
        else:
            r = Xb @ W + b - yb
            loss = (r ** 2).mean() / 2
            gW, gb = Xb.T @ r / k, r.mean()
        float(loss)  # the engine checks every step's loss for divergence
        W = W - lr * gW
        b = b - lr * gb
        seen += k
    return Timing(time.perf_counter() - t0, steps, seen, np.concatenate([W.ravel(), np.ravel(b)]))


def torch_loop(problem, X, y, w0, B, steps, lr, classes, seed=0, autograd=True) -> Timing:
    import torch
    torch.set_num_threads(2)
    n, d = X.shape
    C = classes if problem == "softmax" else 1
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    W = torch.tensor(w0[:d * C].reshape(d, C) if problem == "softmax" else w0[:d])
    b = torch.tensor(w0[d * C:] if problem == "softmax" else w0[d:d + 1].copy())
    if autograd:
        W.requires_grad_(True)
        b.requires_grad_(True)
        opt = torch.optim.SGD([W, b], lr=lr)
    buf = torch.empty((min(B, n), d), dtype=Xt.dtype)
    seen = 0
    t0 = time.perf_counter()
    for idx in batches(n, B, steps, seed):
        if idx is None:
            Xb, yb = Xt, yt
        else:
            it = torch.from_numpy(idx)
            Xb, yb = (Xt[it], yt[it]) if autograd else (torch.index_select(Xt, 0, it, out=buf[:len(idx)]),
                                                          yt[it])
        k = len(yb)
        if autograd:
            if problem == "softmax":
                loss = torch.nn.functional.cross_entropy(Xb @ W + b, yb)
            else:
                loss = 0.5 * ((Xb @ W + b - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                if problem == "softmax":
                    s = torch.addmm(b, Xb, W)
                    logp = torch.log_softmax(s, dim=1)
                    loss = -logp.gather(1, yb[:, None]).mean()
                    g = logp.exp_()
                    g[torch.arange(k), yb] -= 1
                    W.addmm_(Xb.T, g, alpha=-lr / k)
                    b.sub_(g.sum(0), alpha=lr / k)
                else:
                    r = torch.addmv(b, Xb, W).sub_(yb)
                    loss = r.dot(r) / (2 * k)
                    W.addmv_(Xb.T, r, alpha=-lr / k)
                    b.sub_(r.sum(), alpha=lr / k)
        loss.item()
        seen += k
    elapsed = time.perf_counter() - t0
    w = np.concatenate([W.detach().numpy().ravel(), b.detach().numpy().ravel()])
    return Timing(elapsed, steps, seen, w)


def sklearn_epoch(problem, X, y, lr, classes) -> Timing:
    """One partial_fit epoch on float64 rows (sklearn copies float32 input to float64 first: untimed here)."""
    from sklearn.linear_model import SGDClassifier, SGDRegressor
    X64, y64 = np.asarray(X, np.float64), y if problem == "softmax" else np.asarray(y, np.float64)
    common = dict(penalty=None, learning_rate="constant", eta0=lr, shuffle=False, random_state=0)
    t0 = time.perf_counter()
    if problem == "softmax":
        SGDClassifier(loss="log_loss", **common).partial_fit(X64, y64, classes=np.arange(classes))
    else:
        SGDRegressor(loss="squared_error", **common).partial_fit(X64, y64)
    return Timing(time.perf_counter() - t0, len(X64), len(X64), None)


def blas_floor(problem, X, classes, reps=5) -> float:
    """Seconds for the two products of a full-batch step (X @ W and X.T @ G), best of `reps` each."""
    n, d = X.shape
    C = classes if problem == "softmax" else 1
    W = np.full((d, C), 0.01, X.dtype)
    S = np.empty((n, C), X.dtype)
    gW = np.empty((d, C), X.dtype)
    if problem != "softmax":  # matrix-vector products, as the engine does them
        W, S, gW = W[:, 0], S[:, 0].copy(), gW[:, 0]
    t1 = min(_clock(lambda: np.matmul(X, W, out=S)) for _ in range(reps))
    t2 = min(_clock(lambda: np.matmul(S, X, out=gW) if S.ndim == 1 else np.matmul(X.T, S, out=gW))
             for _ in range(reps))
    return t1 + t2


def _clock(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def traced_peak_mb(fn) -> float:
    """Peak of the allocations tracemalloc sees while `fn` runs (MB)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def best_of(fn, reps=None, enough_s=None):
    """Run fn until one run takes >= enough_s (whole call) or `reps` runs; keep the fastest (noisy machine)."""
    reps = reps or REPS["reps"]
    enough_s = enough_s or REPS["enough_s"]
    best, best_t = None, math.inf
    for _ in range(reps):
        r = fn()
        t = r.total_s if isinstance(r, EngineTiming) else r.seconds
        if t < best_t:
            best, best_t = r, t
        if t >= enough_s:
            break
    return best


REPS = {"reps": 3, "enough_s": 1.0}  # --quick: 2 runs, stop after 0.3 s


# -- the table ------------------------------------------------------------------------------------------

def bench_problem(problem, args, out_rows, checks):
    """Every implementation at every batch size for one problem; appends Rows and target checks."""
    X, y = make_data(problem, args.n, args.d, args.classes, args.dtype, seed=0)
    Xv, yv = make_data(problem, N_VAL, args.d, args.classes, args.dtype, seed=1)
    n, lr, C = len(X), LR[problem], args.classes
    nbytes = data_bytes(X, y, Xv, yv)
    w0 = init_weights(problem, args.d, C, args.dtype)
    has_torch = _has("torch")
    for b_name in args.batch_sizes:
        B = n if b_name == "full" else int(b_name)
        spe = epoch_steps(n, B)
        bl = f"{b_name}" if b_name != "full" else f"full ({n})"
        eng = {}
        peak = traced_peak_mb(partial(run_engine, problem, X, y, Xv, yv, B, min(spe, MEM_STEPS), lr, C, 2))
        for ck in (200, 2):
            steps = spe if not args.engine_max_steps else min(spe, args.engine_max_steps)
            # full batch: best of 5, like the BLAS floor it is compared with (one step is one product pair)
            r = best_of(partial(run_engine, problem, X, y, Xv, yv, B, steps, lr, C, ck),
                        reps=5 if B >= n else None, enough_s=math.inf if B >= n else None)
            eng[ck] = r
            ex = examples_in(n, B, r.steps)
            note = f"total {r.total_s:.2f}s" + ("" if r.status == "ok" else f" STATUS={r.status}")
            out_rows.append(Row(problem, bl, f"engine/ck={ck}", f"{r.steps}/{spe}", ex / r.train_s,
                                1e6 * r.train_s / r.steps, peak, note))
        if B < n:  # full batch: one step, so both runs measure the same 2 checkpoints
            # the checkpoints' evaluation, timed in the run itself, as a share of that run's training time
            # (differences of whole-call totals drown in the setup's noise, e.g. the least-squares optimum)
            e = eng[200]
            overhead = e.ckpt_s / e.train_s
            out_rows[-2] = out_rows[-2]._replace(note=out_rows[-2].note + (
                f", ckpt overhead {100 * overhead:+.1f}%"
                f" ({e.n_ckpt} evaluator calls x {1e3 * e.ckpt_s / max(e.n_ckpt, 1):.2f} ms)"))
            checks.append((f"{problem} B={b_name}: checkpoint evaluation at the default count <= 10% of training"
                           + ("" if args.n == 1_200_000 else f" [N={n}, target is for N=1.2M]"),
                           overhead <= 0.10, f"{100 * overhead:+.1f}%"))
        engine_rate = out_rows[-1].ex_per_s  # ck=2: the loop without checkpoint evaluation
        if B == 1:
            us = out_rows[-1].us_per_step
            checks.append((f"{problem} B=1: engine (ck=2) <= 8 us per step", us <= 8.0, f"{us:.1f} us"))
        if problem == "softmax" and b_name == "256":
            rate = out_rows[-2].ex_per_s
            checks.append(("softmax B=256 one epoch >= 1.5M examples/s (train time, default checkpoints)"
                           + ("" if args.n == 1_200_000 else f" [N={n}, target is for N=1.2M]"),
                           rate >= 1.5e6, f"{rate / 1e6:.2f}M/s"))
            peak_total = nbytes / 1e6 + out_rows[-2].peak_mb
            checks.append(("softmax B=256 peak memory <= 2x dataset (dataset + traced peak)",
                           peak_total <= 2 * nbytes / 1e6, f"{peak_total:.0f} MB vs dataset {nbytes / 1e6:.0f} MB"))

        steps = min(spe, MAX_STEPS)
        t = best_of(partial(naive, problem, X, y, w0, B, steps, lr, C))
        peak = traced_peak_mb(partial(naive, problem, X, y, w0, B, min(spe, MEM_STEPS), lr, C))
        out_rows.append(row_from(problem, bl, "naive", t, spe, peak))
        naive_rate = out_rows[-1].ex_per_s
        ratio = engine_rate / naive_rate
        if B <= 4096 and B < n:
            # the check: the table's two measurements (an engine epoch, the naive loop's steps) repeated in
            # alternation, fastest of each: the machine's speed drifts by up to 2x within a minute, so single
            # timings taken a minute apart do not compare. Whole epochs, as the target says: shorter runs
            # would overweight the per-epoch shuffle both loops pay once.
            rounds = PAIRED_ROUNDS if B > 1 else 1  # B = 1: an engine epoch is 1.2M steps, and the margin wide
            e_rate, n_rate = [engine_rate], [naive_rate]
            for _ in range(rounds - 1):
                r = run_engine(problem, X, y, Xv, yv, B, eng[2].steps, lr, C, 2)
                e_rate.append(examples_in(n, B, r.steps) / r.train_s)
                t = naive(problem, X, y, w0, B, min(spe, MAX_STEPS), lr, C)
                n_rate.append(t.examples / t.seconds)
            paired = max(e_rate) / max(n_rate)
            checks.append((f"{problem} B={b_name}: engine (ck=2) >= 1.5x naive", paired >= 1.5,
                           f"{paired:.2f}x (best of {rounds} alternating rounds; the rows above: {ratio:.2f}x)"))
        elif B < n:
            checks.append((f"{problem} B={b_name}: engine (ck=2) not slower than naive", ratio >= 1.0,
                           f"{ratio:.2f}x"))

        if has_torch:
            steps = min(spe, TORCH_STEPS if B <= 32 else MAX_STEPS)
            for auto in (True, False):
                t = best_of(partial(torch_loop, problem, X, y, w0, B, steps, lr, C, autograd=auto))
                out_rows.append(row_from(problem, bl, "torch-autograd" if auto else "torch-manual", t, spe,
                                         math.nan, "2 threads"))
                if B <= 256:
                    ratio = engine_rate / out_rows[-1].ex_per_s
                    ok = ratio >= 4.0 if auto else ratio > 1.0
                    checks.append((f"{problem} B={b_name}: engine (ck=2) {'>= 4x' if auto else 'faster than'} "
                                   f"torch {'autograd' if auto else 'hand-written'}", ok, f"{ratio:.2f}x"))
        if B == 1 and _has("sklearn"):
            rows = min(n, SK_ROWS)
            t = best_of(partial(sklearn_epoch, problem, X[:rows], y[:rows], lr, C), reps=2)
            note = f"{rows} rows timed" + (f"; OvR: {C} binary passes" if problem == "softmax" else "")
            out_rows.append(row_from(problem, bl, "sklearn", t, n, math.nan, note))
        if B >= n:
            # the engine's step, the floor and the naive step alternate, 5 rounds, fastest of each: the machine's
            # speed drifts by up to 2x within a minute, so only interleaved timings compare
            # A pause before each: after a multi-threaded BLAS call (the floor, naive) OpenBLAS's threads spin for a
            # while and compete with whatever runs next (an engine step right after the floor measured ~15-20%
            # slower than one after a pause).
            floors, steps_s, naive_s = [], [], []
            for _ in range(5):
                time.sleep(SETTLE_S)
                floors.append(blas_floor(problem, X, C, reps=1))
                time.sleep(SETTLE_S)
                r = run_engine(problem, X, y, Xv, yv, B, 1, lr, C, 2)
                steps_s.append(r.train_s / r.steps)
                time.sleep(SETTLE_S)
                naive_s.append(naive(problem, X, y, w0, B, 1, lr, C).seconds)
            checks.append((f"{problem} B=full: engine (ck=2) not slower than naive", min(naive_s) >= min(steps_s),
                           f"{min(naive_s) / min(steps_s):.2f}x (5 alternating rounds; the rows above: {ratio:.2f}x)"))
            floor = min(floors)
            out_rows.append(Row(problem, bl, "blas-floor", "1/1", n / floor, 1e6 * floor, math.nan,
                                "X@W + X.T@G only"))
            eng_step = 1e6 * min(steps_s)
            ratio = eng_step / (1e6 * floor)
            checks.append((f"{problem} full-batch step within 1.5x of the BLAS floor", ratio <= 1.5,
                           f"{ratio:.2f}x ({eng_step / 1e3:.1f} ms vs {floor * 1e3:.1f} ms)"))


def examples_in(n, B, steps):
    spe = epoch_steps(n, B)
    epochs, within = divmod(steps, spe)
    return epochs * n + min(within * B, n)


def row_from(problem, bl, impl, t: Timing, spe, peak, note="") -> Row:
    extrap = " (extrapolated)" if t.steps < spe else ""
    return Row(problem, bl, impl, f"{t.steps}/{spe}", t.examples / t.seconds, 1e6 * t.seconds / t.steps, peak,
               (note + extrap).strip(", "))


def _has(module) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def format_table(rows: list[Row]) -> str:
    """Markdown table; `x naive` / `x engine` are examples/s ratios to naive / engine ck=2 at the same B."""
    head = ("| problem | B | impl | steps timed/epoch | examples/s | us/step | x naive | x engine | "
            "peak MB | note |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        same = [o for o in rows if o.problem == r.problem and o.batch == r.batch]
        base = {o.impl: o.ex_per_s for o in same}
        xn = r.ex_per_s / base["naive"] if "naive" in base else math.nan
        xe = r.ex_per_s / base["engine/ck=2"] if "engine/ck=2" in base else math.nan
        peak = "n/a" if math.isnan(r.peak_mb) else f"{r.peak_mb:.1f}"
        lines.append(f"| {r.problem} | {r.batch} | {r.impl} | {r.steps} | {_si(r.ex_per_s)} | "
                     f"{r.us_per_step:,.1f} | {xn:.2f} | {xe:.2f} | {peak} | {r.note} |")
    return "\n".join(lines)


def _si(x) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def header() -> str:
    blas = [f"{i['internal_api']} {i.get('version')} ({i['prefix']}, {i['num_threads']} threads, "
            f"{i.get('architecture', '')})" for i in threadpool_info() if i["user_api"] == "blas"]
    omp = [f"{i['prefix']}: {i['num_threads']}" for i in threadpool_info() if i["user_api"] == "openmp"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    torch_v = "absent"
    if _has("torch"):
        import torch
        torch_v = torch.__version__
    return "\n".join([
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch_v}",
        f"CPU: {cpu}; os.cpu_count() = {os.cpu_count()}, usable = {len(os.sched_getaffinity(0))}",
        "BLAS: " + "; ".join(blas),
        "OpenMP: " + "; ".join(omp),
        f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"OPENBLAS_CORETYPE = {os.environ.get('OPENBLAS_CORETYPE', '(not set)')}, "
        f"OPENBLAS_L2_SIZE = {os.environ.get('OPENBLAS_L2_SIZE', '(not set)')} (left as found)",
    ])


# -- stacked runs: R runs of one batch size trained together (gd_core.train.stacked) ----------------------------

STACK_R = 8
STACK_MAX_STEPS = 20_000  # B = 1 stacked comparison: steps per run timed (an epoch is 1.2M)
# B = 32 times a whole epoch (37,500 steps at N = 1.2M), as the targets say: a shorter run overweights the
# per-epoch shuffle (~50 ms per seed), which stacked and one-by-one runs pay alike


def stacked_config(problem, X, B, steps, lrs, seeds, classes=10, n_checkpoints=2) -> ExperimentConfig:
    return engine_config(problem, X, B, steps, lrs[0], seeds[0], n_checkpoints, classes).replace(
        lrs=tuple(lrs), seeds=tuple(seeds))


def run_stacked_pair(problem, X, y, Xv, yv, B, steps, lrs, seeds, classes, n_checkpoints=2):
    """(stacked, one by one) training seconds for the same R runs: summary wall_time_s (checkpoints excluded).

    Stacked runs share one clock, so their time is the largest wall_time_s; one by one it is the sum."""
    ds = make_dataset(problem, X, y, Xv, yv, classes)
    cfg = stacked_config(problem, X, B, steps, lrs, seeds, classes, n_checkpoints)
    out = []
    for stacked in (True, False):
        res = run_experiment(cfg, dataset=ds, stacked=stacked)
        t = res.summary["wall_time_s"]
        out.append((float(t.max() if stacked else t.sum()), res))
    return out


def stacked_section(args) -> tuple[list[str], list]:
    """Printable lines and target checks: R = 8 at B = 32 (shared and independent orders), B = 1 per run-step.

    Each case runs stacked and one by one in turn (interleaved) at least twice (`REPS["reps"]` times unless
    a pair takes >= 2 x REPS["enough_s"]), and keeps the fastest of each; the B = 1 lr sweep times
    scikit-learn's epoch in the same rounds, so both sides of the S2 check see the same machine load."""
    lines, checks = [], []
    C = args.classes
    for problem in args.problems:
        X, y = make_data(problem, args.n, args.d, C, args.dtype, seed=0)
        Xv, yv = make_data(problem, N_VAL, args.d, C, args.dtype, seed=1)
        lr = LR[problem]
        sweep = [lr * f for f in np.geomspace(0.25, 2.0, STACK_R)]
        for B in (32, 1):
            steps = epoch_steps(len(X), B) if B > 1 else min(epoch_steps(len(X), B), STACK_MAX_STEPS)
            for label, lrs, seeds in (("shared order (lr sweep)", sweep, [0]),
                                      ("independent orders (seeds)", [lr], list(range(STACK_R)))):
                if B == 1 and problem != "softmax":
                    continue
                with_sk = B == 1 and seeds == [0] and _has("sklearn")
                sk_rows = min(len(X), SK_ROWS // 4)
                ts = tq = sk = math.inf
                min_reps = 3 if B > 1 else 2  # the B = 32 ratios sit near their targets: one more alternation
                for rep in range(max(min_reps, REPS["reps"])):
                    (t1, rs), (t2, rq) = run_stacked_pair(problem, X, y, Xv, yv, B, steps, lrs, seeds, C)
                    ts, tq = min(ts, t1), min(tq, t2)
                    if with_sk:
                        sk = min(sk, sklearn_epoch(problem, X[:sk_rows], y[:sk_rows], lr, C).seconds)
                    if rep >= min_reps - 1 and t1 + t2 >= 2 * REPS["enough_s"]:
                        break
                same = np.allclose(rs.log["train_loss"], rq.log["train_loss"], rtol=1e-4, atol=1e-6)
                per = 1e6 * ts / (steps * STACK_R)
                lines.append(f"S1 {problem} R={STACK_R} B={B} {label}: stacked {ts:.2f} s vs one by one {tq:.2f} s "
                             f"({steps} steps/run, best of {rep + 1}) -> {tq / ts:.2f}x; {per:.1f} us per run-step "
                             f"(same losses: {same})")
                if B == 32:
                    goal = 4.0 if seeds == [0] else 2.0
                    checks.append((f"{problem} R={STACK_R} B=32 stacked {label} >= {goal:g}x one by one",
                                   tq / ts >= goal, f"{tq / ts:.2f}x"))
                elif with_sk:
                    sk_us = 1e6 * sk / sk_rows
                    lines.append(f"S2 softmax B=1: stacked {per:.1f} us per run-step vs scikit-learn "
                                 f"SGDClassifier {sk_us:.1f} us per sample (OvR, {C} classes; same rounds)")
                    checks.append(("softmax B=1 stacked lr sweep: us per run-step <= scikit-learn per sample",
                                   per <= sk_us, f"{per:.1f} vs {sk_us:.1f} us"))
        del X, y
        gc.collect()
    return lines, checks


# -- prototypes of engine changes (each prints its measured ratio) ---------------------------------------

def careful_softmax(X, y, w0, B, steps, lr, classes, seed=0) -> Timing:
    """Softmax SGD with every buffer preallocated and `out=` everywhere; a scalar-free B = 1 path."""
    n, d = X.shape
    C = classes
    w = w0.copy()
    W, b = w[:d * C].reshape(d, C), w[d * C:]
    g = np.empty_like(w)
    gW, gb = g[:d * C].reshape(d, C), g[d * C:]
    Bm = min(B, n)
    Xbuf, ybuf = np.empty((Bm, d), X.dtype), np.empty(Bm, y.dtype)
    S, mx, sm = np.empty((Bm, C), X.dtype), np.empty((Bm, 1), X.dtype), np.empty((Bm, 1), X.dtype)
    rows = np.arange(Bm)
    s1 = np.empty(C, X.dtype)
    seen = 0
    t0 = time.perf_counter()
    for idx in batches(n, B, steps, seed):
        if B == 1:
            i = idx[0]
            x, yi = X[i], y[i]
            np.matmul(x, W, out=s1)
            s1 += b
            s1 -= s1.max()
            c = s1[yi]
            np.exp(s1, out=s1)
            tot = s1.sum()
            loss = math.log(tot) - c
            s1 *= 1.0 / tot
            s1[yi] -= 1.0
            np.multiply.outer(x, s1, out=gW)
            gb[:] = s1
            k = 1
        else:
            if idx is None:
                Xb, yb, k = X, y, n
            else:
                k = len(idx)
                Xb = np.take(X, idx, axis=0, out=Xbuf[:k], mode="clip")
                yb = np.take(y, idx, out=ybuf[:k], mode="clip")
            s, r = S[:k], rows[:k]
            np.matmul(Xb, W, out=s)
            s += b
            np.maximum.reduce(s, axis=1, keepdims=True, out=mx[:k])
            s -= mx[:k]
            correct = s[r, yb].sum()
            np.exp(s, out=s)
            np.add.reduce(s, axis=1, keepdims=True, out=sm[:k])
            loss = (np.log(sm[:k]).sum() - correct) / k
            s /= sm[:k]
            s[r, yb] -= 1.0
            np.matmul(Xb.T, s, out=gW)
            np.add.reduce(s, axis=0, out=gb)
        float(loss)
        g *= lr / k
        w -= g
        seen += k
    return Timing(time.perf_counter() - t0, steps, seen, w)


def careful_least_squares(X, y, w0, B, steps, lr, classes=None, seed=0) -> Timing:
    """Least squares SGD with preallocated buffers; B = 1 as dot, scale, subtract."""
    n, d = X.shape
    w = w0.copy()
    W = w[:d]
    g = np.empty_like(w)
    Bm = min(B, n)
    Xbuf, ybuf, r = np.empty((Bm, d), X.dtype), np.empty(Bm, y.dtype), np.empty(Bm, X.dtype)
    seen = 0
    t0 = time.perf_counter()
    for idx in batches(n, B, steps, seed):
        if B == 1:
            i = idx[0]
            x = X[i]
            e = float(np.dot(x, W)) + float(w[d]) - float(y[i])
            loss = 0.5 * e * e
            np.multiply(x, lr * e, out=g[:d])
            W -= g[:d]
            w[d] -= lr * e
            k = 1
        else:
            if idx is None:
                Xb, yb, k = X, y, n
                rk = np.empty(n, X.dtype) if r.shape[0] != n else r
            else:
                k = len(idx)
                Xb = np.take(X, idx, axis=0, out=Xbuf[:k], mode="clip")
                yb = np.take(y, idx, out=ybuf[:k], mode="clip")
                rk = r[:k]
            np.matmul(Xb, W, out=rk)
            rk += w[d] - 0  # bias
            rk -= yb
            loss = np.dot(rk, rk) / (2 * k)
            np.matmul(rk, Xb, out=g[:d])
            g[d] = rk.sum()
            g *= lr / k
            w -= g
        float(loss)
        seen += k
    return Timing(time.perf_counter() - t0, steps, seen, w)


def engine_loop_replica(problem, X, y, w0, B, steps, lr, classes, seed=0) -> Timing:
    """gd_core's per-step work without checkpoints: the runner's gather + problem.loss_and_grad + opt.update."""
    n, d = X.shape
    p = make_problem(problem, d, classes if problem == "softmax" else None)
    opt = make_optimizer("sgd", lr)
    w = w0.copy()
    state = opt.init(w)
    Xbuf = np.empty((B, d), X.dtype) if 1 < B < n else None
    ybuf = np.empty(B, y.dtype) if Xbuf is not None else None
    seen = 0
    t0 = time.perf_counter()
    for idx in batches(n, B, steps, seed):
        if idx is None:
            loss, grad = p.loss_and_grad(w, X, y)
            k = n
        elif B == 1:
            i = int(idx[0])
            loss, grad = p.loss_and_grad(w, X[i:i + 1], y[i:i + 1])
            k = 1
        else:
            k = len(idx)
            Xb = np.take(X, idx, axis=0, out=Xbuf[:k], mode="clip")
            yb = np.take(y, idx, out=ybuf[:k], mode="clip")
            loss, grad = p.loss_and_grad(w, Xb, yb)
        if not loss <= np.inf:
            break
        w, state = opt.update(grad, state, w)
        seen += k
    return Timing(time.perf_counter() - t0, steps, seen, w)


def threaded_full_softmax_grad(X, y, w, classes, chunk=16_384, threads=2):
    """Full-set softmax (loss, grad): row chunks over `threads` Python threads, BLAS at 1 thread (set by caller)."""
    n, d = X.shape
    C = classes
    W, b = w[:d * C].reshape(d, C), w[d * C:]

    def part(t):
        S = np.empty((chunk, C), X.dtype)
        gW, gb, loss = np.zeros((d, C), X.dtype), np.zeros(C, X.dtype), 0.0
        for i in range(t * chunk, n, threads * chunk):
            Xc, yc = X[i:i + chunk], y[i:i + chunk]
            s = S[:len(yc)]
            np.matmul(Xc, W, out=s)
            s += b
            s -= np.maximum.reduce(s, axis=1, keepdims=True)
            r = np.arange(len(yc))
            loss -= float(s[r, yc].sum())
            np.exp(s, out=s)
            tot = np.add.reduce(s, axis=1, keepdims=True)
            loss += float(np.log(tot).sum())
            s /= tot
            s[r, yc] -= 1.0
            gW += Xc.T @ s
            gb += np.add.reduce(s, axis=0)
        return loss, gW, gb

    with ThreadPoolExecutor(threads) as ex:
        parts = list(ex.map(part, range(threads)))
    g = np.empty_like(w)
    g[:d * C] = sum(p[1] for p in parts).ravel() / n
    g[d * C:] = sum(p[2] for p in parts) / n
    return sum(p[0] for p in parts) / n, g


def chunked_lstsq_optimum(X, y, chunk=16_384):
    """[W, b] from the normal equations accumulated over row chunks in float64: O(D^2) extra memory."""
    n, d = X.shape
    A = np.zeros((d + 1, d + 1))
    rhs = np.zeros(d + 1)
    Xc = np.empty((chunk, d + 1))
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        Xc[:m, :d] = X[i:i + m]
        Xc[:m, d] = 1.0
        A += Xc[:m].T @ Xc[:m]
        rhs += Xc[:m].T @ y[i:i + m]
    return np.linalg.solve(A, rhs).astype(X.dtype)


def prototypes(args):
    """Measured ratios of candidate engine changes; returns printable lines."""
    out = []
    C = args.classes
    for problem in args.problems:
        X, y = make_data(problem, args.n, args.d, C, args.dtype, seed=0)
        n, lr = len(X), LR[problem]
        w0 = init_weights(problem, args.d, C, args.dtype)
        careful = careful_softmax if problem == "softmax" else careful_least_squares
        for b_name in args.batch_sizes:
            B = n if b_name == "full" else int(b_name)
            steps = min(epoch_steps(n, B), MAX_STEPS, 5 if B >= n else MAX_STEPS)
            base = best_of(partial(engine_loop_replica, problem, X, y, w0, B, steps, lr, C))
            new = best_of(partial(careful, X, y, w0, B, steps, lr, C))
            same = np.allclose(base.w, new.w, rtol=1e-3, atol=1e-5)
            out.append(f"P1 {problem} B={b_name}: careful step (preallocated, out=, B=1 special path) "
                       f"{1e6 * new.seconds / steps:,.1f} vs engine loop {1e6 * base.seconds / steps:,.1f} us/step"
                       f" -> {base.seconds / new.seconds:.2f}x (same weights: {same})")
        p = make_problem(problem, args.d, C if problem == "softmax" else None)
        if problem == "softmax":
            w = w0.copy()
            t_eng = min(_clock(partial(p.loss_and_grad, w, X, y)) for _ in range(3))
            with threadpool_limits(1, user_api="blas"):
                t_thr = min(_clock(partial(threaded_full_softmax_grad, X, y, w, C)) for _ in range(3))
                l1, g1 = threaded_full_softmax_grad(X, y, w, C)
            l0, g0 = p.loss_and_grad(w, X, y)
            ok = np.allclose(g0, g1, rtol=1e-3, atol=1e-6) and abs(l0 - l1) < 1e-4 * abs(l0)
            out.append(f"P3 softmax full-batch gradient: 16k-row chunks over 2 threads, BLAS 1 thread "
                       f"{t_thr * 1e3:.0f} ms vs engine loss_and_grad {t_eng * 1e3:.0f} ms -> "
                       f"{t_eng / t_thr:.2f}x (same result: {ok})")
            Xv, yv = make_data(problem, N_VAL, args.d, C, args.dtype, seed=1)
            ds = make_dataset(problem, X, y, Xv, yv, C)
            for m in (50_000, 10_000):
                ev = Evaluator(p, ds, m, 0)
                t_ev = min(_clock(partial(ev, w)) for _ in range(5))
                per_epoch = {B: epoch_steps(n, B) for B in (256, 4096)}
                t_lg = min(_clock(partial(p.loss_and_grad, w, ev.X, ev.y)) for _ in range(5))
                t_acc = min(_clock(partial(p.accuracy, w, ev.X, ev.y)) for _ in range(5))
                out.append(f"P5   of which loss_and_grad {t_lg * 1e3:.1f} ms, train accuracy (recomputes the "
                           f"scores) {t_acc * 1e3:.1f} ms; the rest is val loss/accuracy and the grad norm")
                out.append(f"P5 softmax checkpoint cost, eval_examples={m}: {t_ev * 1e3:.1f} ms each; x200 = "
                           f"{200 * t_ev:.2f} s per run (an epoch of B=256 at 1.5M ex/s is {n / 1.5e6:.2f} s; "
                           f"{per_epoch[256]} steps)")
        else:
            t_opt = min(_clock(partial(p.optimum, X, y)) for _ in range(2))
            peak_opt = traced_peak_mb(partial(p.optimum, X, y))
            t_new = min(_clock(partial(chunked_lstsq_optimum, X, y)) for _ in range(3))
            peak_new = traced_peak_mb(partial(chunked_lstsq_optimum, X, y))
            err = float(np.max(np.abs(chunked_lstsq_optimum(X, y) - p.optimum(X, y))))
            out.append(f"P4 least_squares optimum (run_experiment setup, every call): lstsq on float64 [X,1] "
                       f"{t_opt:.2f} s, peak {peak_opt:.0f} MB vs chunked normal equations {t_new:.3f} s, peak "
                       f"{peak_new:.1f} MB -> {t_opt / t_new:.1f}x faster, max |diff| {err:.1e}")
    return out


# -- CLI --------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 60,000 (the whole run in < 60 s)")
    ap.add_argument("--n", type=int, default=1_200_000, help="training examples")
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--batch-sizes", default="1,32,256,4096,full")
    ap.add_argument("--problems", default="softmax,least_squares")
    ap.add_argument("--engine-max-steps", type=int, default=0,
                    help="cap the engine's timed steps (0 = a full epoch; checkpoints then span fewer examples)")
    ap.add_argument("--no-prototypes", action="store_true")
    ap.add_argument("--no-stacked", action="store_true", help="skip the stacked-runs comparison")
    a = ap.parse_args(argv)
    if a.quick:
        a.n = 60_000
        REPS.update(reps=2, enough_s=0.3)
    a.batch_sizes = [s.strip() for s in a.batch_sizes.split(",") if s.strip()]
    a.problems = [s.strip() for s in a.problems.split(",") if s.strip()]
    for b in a.batch_sizes:
        if b != "full" and not (b.isdigit() and 1 <= int(b) <= a.n):
            ap.error(f'--batch-sizes entries must be integers in [1, {a.n}] or "full"; got {b!r}')
    for p in a.problems:
        if p not in LR:
            ap.error(f"--problems entries must be softmax or least_squares; got {p!r}")
    return a


TARGET_SCALE = (1_200_000, 64, 10, "float32")  # (N, D, C, dtype) the targets are set for


def at_target_scale(args) -> bool:
    return (args.n, args.d, args.classes, args.dtype) == TARGET_SCALE


def targets_report(checks: list[tuple[str, bool, str]], target_scale: bool) -> str:
    """The checks as [PASS] / [FAIL] lines and a count; at another scale (e.g. --quick) as [met] / [not met],
    since the targets are set for N = 1.2M, D = 64, C = 10, float32 and only indicate there."""
    yes, no = ("PASS", "FAIL") if target_scale else ("met", "not met")
    lines = ["\nTargets:" if target_scale else
             "\nTargets (set for N = 1,200,000, D = 64, C = 10, float32: at this scale the readings only indicate):"]
    lines += [f"  [{yes if ok else no}] {name}: {value}" for name, ok, value in checks]
    n_ok = sum(ok for _, ok, _ in checks)
    lines.append(f"  {n_ok} of {len(checks)} {yes}" + (f", {len(checks) - n_ok} {no}" if n_ok < len(checks) else ""))
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    print(header())
    print(f"N = {args.n:,}, D = {args.d}, C = {args.classes}, {args.dtype}; plain SGD, lr = {LR}, seed 0\n")
    # warm-up: imports, first-call costs of pandas and BLAS
    Xw, yw = make_data("softmax", 2_000, args.d, args.classes, args.dtype)
    run_engine("softmax", Xw, yw, Xw[:100], yw[:100], 32, 10, 0.01, args.classes)
    rows, checks = [], []
    for problem in args.problems:
        bench_problem(problem, args, rows, checks)
        gc.collect()  # the problem's arrays are gone: bound the memory of the next section
    print(format_table(rows))
    if not args.no_stacked:
        lines, more = stacked_section(args)
        checks += more
        print("\nStacked runs (training time, 2 checkpoints; ratio = one by one / stacked):")
        for line in lines:
            print("  " + line)
    print(targets_report(checks, at_target_scale(args)))
    if not args.no_prototypes:
        print("\nPrototypes (ratio = engine time / prototype time):")
        for line in prototypes(args):
            print("  " + line)
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
