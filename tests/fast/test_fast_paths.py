"""Each fast path of the hot loop equals the straightforward one: bound gradient kernels, the fused B = 1 SGD
loop, the in-place updaters (optimizers.make_updater), BatchSampler.next_rows, and the runner that uses them."""

import numpy as np
import pytest
from fake_data import kind, small_dataset

from gd_core import BatchSampler, ExperimentConfig, make_optimizer, make_problem, run_experiment
from gd_core.fast.kernels import bind_gradient
from gd_core.fast.one_example import LAZY_BLOCK, one_example_sgd
from gd_core.optim.optimizers import make_updater
from gd_core.train.checkpoints import checkpoint_steps
from gd_core.train.plan import optimizer_hyperparameters
from gd_core.train.reference import Descent, reference_run
from gd_core.train.runner import build_dataset, build_problem

D, C = 4, 3


def setup(name, reg=0.0, n=40, seed=0):
    rng = np.random.default_rng(seed)
    ds = small_dataset(n=n, d=D, rng=rng, **kind(name, C))
    p = make_problem(name, D, ds.n_classes, reg=reg)
    return p, ds.X_train, ds.y_train, p.init_params(rng) + 0.3 * rng.standard_normal(p.n_params)


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("name", ["least_squares", "logistic", "softmax", "svm", "mlp"])
def test_bound_kernel_equals_loss_and_grad_for_full_and_partial_batches(name, reg):
    p, X, y, w = setup(name, reg)
    grad = np.empty_like(w)
    f = bind_gradient(p, w, grad, 16)
    for rows in (slice(0, 16), slice(16, 21), slice(3, 4), slice(0, 16)):  # buffers reused across sizes
        loss, ref = p.loss_and_grad(w, X[rows], y[rows])
        np.testing.assert_allclose(f(X[rows], y[rows]), loss, rtol=1e-12)
        np.testing.assert_allclose(grad, ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["least_squares", "logistic"])
def test_bound_kernel_takes_data_of_another_dtype_than_the_weights(name):
    """float32 weights on float64 rows (np.dot would refuse the float32 `out`): the kernel casts like
    loss_and_grad."""
    p, X, y, w = setup(name)
    w32 = w.astype(np.float32)
    grad = np.empty_like(w32)
    loss = bind_gradient(p, w32, grad, 16)(X[:16], y[:16])
    ref_loss, ref = p.loss_and_grad(w32.astype(np.float64), X[:16], y[:16])
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reg", [0.0, 0.05])
@pytest.mark.parametrize("name", ["least_squares", "logistic", "softmax"])
def test_one_example_sgd_equals_generic_steps(name, reg):
    p, X, y, w0 = setup(name, reg)
    rows = [5, 0, 39, 5, 17, 22, 8, 8, 31, 2]
    lr_at = lambda step: 0.3 / (1 + step)  # noqa: E731 - a schedule, called with 0-based steps
    w = w0.copy()
    done, loss, diverged = one_example_sgd(p, w, X, y)(rows, 0, lr_at, np.inf)
    ref = w0.copy()
    for k, i in enumerate(rows):
        ref_loss, g = p.loss_and_grad(ref, X[i:i + 1], y[i:i + 1])
        ref -= lr_at(k) * g
    assert done == len(rows) and not diverged
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(w, ref, rtol=1e-12, atol=1e-14)


def _generic_sgd(p, w0, X, y, rows, lr_at):
    ref, losses = w0.copy(), []
    for k, i in enumerate(rows):
        loss, g = p.loss_and_grad(ref, X[i:i + 1], y[i:i + 1])
        losses.append(loss)
        ref -= lr_at(k) * g
    return ref, losses


@pytest.mark.parametrize("name", ["least_squares", "logistic", "softmax"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-11), (np.float32, 2e-4)])
def test_lazy_blocks_equal_generic_steps_across_block_boundaries(name, dtype, rtol):
    """The lazy-update loop (one_example._lazy): several full blocks, a short last block, repeated rows, a
    decaying lr; and a second call continuing from where the first stopped."""
    p, X, y, w0 = setup(name, n=300)
    X, w0 = X.astype(dtype), w0.astype(dtype)
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 300, 2 * LAZY_BLOCK + 37).tolist() + [7, 7, 7]
    lr_at = lambda step: 0.1 / (1 + 0.01 * step)  # noqa: E731
    ref, ref_losses = _generic_sgd(p, w0.astype(np.float64), X.astype(np.float64), y, rows, lr_at)
    w = w0.copy()
    run = one_example_sgd(p, w, X, y)
    half = LAZY_BLOCK + 5
    done1, _, _ = run(rows[:half], 0, lr_at, np.inf)
    done2, loss, diverged = run(rows[half:], half, lr_at, np.inf)
    assert (done1 + done2, diverged) == (len(rows), False)
    np.testing.assert_allclose(loss, ref_losses[-1], rtol=rtol)
    np.testing.assert_allclose(w, ref, rtol=rtol, atol=rtol * 1e-2)
    assert not np.array_equal(w, w0)


@pytest.mark.parametrize("name", ["least_squares", "softmax"])
def test_lazy_loop_stops_before_the_diverging_update_inside_a_later_block(name):
    p, X, y, w0 = setup(name, n=300)
    X[299] *= 40  # a far-out row: its loss is over any earlier one
    rows = list(range(LAZY_BLOCK + 10)) + [299, 0]
    lr_at = lambda step: 0.2  # noqa: E731
    ref, ref_losses = _generic_sgd(p, w0, X, y, rows, lr_at)
    limit = max(ref_losses[:LAZY_BLOCK + 10]) * (1 + 1e-9)
    first_over = next(k for k, v in enumerate(ref_losses) if not v <= limit)
    assert first_over == LAZY_BLOCK + 10  # in the second block
    w = w0.copy()
    done, loss, diverged = one_example_sgd(p, w, X, y)(rows, 0, lr_at, limit)
    assert (done, diverged) == (first_over, True)
    np.testing.assert_allclose(loss, ref_losses[first_over], rtol=1e-12)
    ref_at, _ = _generic_sgd(p, w0, X, y, rows[:first_over], lr_at)
    np.testing.assert_allclose(w, ref_at, rtol=1e-11, atol=1e-14)


def test_one_example_sgd_stops_before_the_diverging_update():
    p, X, y, w0 = setup("least_squares")
    w = w0.copy()
    run = one_example_sgd(p, w, X, y)
    first = p.loss(w, X[3:4], y[3:4])
    done, loss, diverged = run([3, 4], 0, lambda s: 0.1, first / 2)
    assert (done, diverged) == (0, True) and loss == pytest.approx(first)
    np.testing.assert_array_equal(w, w0)
    assert one_example_sgd(make_problem("mlp", D, C), w0, X, y) is None
    # float16 (no struct format for the lazy loop's row store): the generic per-step path instead
    assert one_example_sgd(p, w0.astype(np.float16), X.astype(np.float16), y) is None


@pytest.mark.parametrize("scores", [[0.5, -1.0, 2.0], [800.0, 790.0, -5.0], [-800.0, -805.0, -790.0],
                                    [3.0e4, 0.0, -3.0e4], [1.0, 1.0, 1.0], [-700.0, -705.0, -710.0]])
def test_softmax_head_matches_the_shifted_formula_where_exp_overflows_or_underflows(scores):
    """The B = 1 head takes exp without the max shift and falls back to the shifted form when that
    overflows (OverflowError) or underflows to a zero sum: every case equals the stable NumPy formula."""
    from gd_core.fast.one_example import _softmax_head

    z, lr = np.array(scores), 0.3
    for yi in range(len(scores)):
        shifted = z - z.max()
        probs = np.exp(shifted) / np.exp(shifted).sum()
        loss, g = _softmax_head(list(scores), yi, lr)
        assert loss == pytest.approx(np.log(np.exp(shifted).sum()) - shifted[yi], rel=1e-12, abs=1e-12)
        # atol: lr p - lr against lr (p - 1), rounding of order lr * 1e-16
        np.testing.assert_allclose(g, lr * (probs - np.eye(len(scores))[yi]), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, hp", [("sgd", {}), ("sgd", dict(momentum=0.9)),
                                      ("sgd", dict(momentum=0.9, nesterov=True, weight_decay=0.01)),
                                      ("adam", {}), ("adam", dict(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))])
def test_in_place_updater_is_bit_identical_to_the_optimizer(name, hp):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(7).astype(np.float32)
    schedule = lambda step: 0.1 / (1 + step)  # noqa: E731
    opt = make_optimizer(name, schedule, **hp)
    ref, state = w0.copy(), opt.init(w0)
    w = w0.copy()
    update = make_updater(name, hp, w)
    for step in range(15):
        g = rng.standard_normal(7).astype(np.float32)
        ref, state = opt.update(g, state, ref)
        update(g, schedule(step), step)
    np.testing.assert_array_equal(w, ref)
    assert make_updater("rmsprop", {}, w) is None


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_next_rows_draws_what_next_draws(sampling):
    a = BatchSampler(7, 1, sampling, np.random.default_rng(3))
    b = BatchSampler(7, 1, sampling, np.random.default_rng(3))
    got = a.next_rows(5) + a.next_rows(12) + a.next_rows(1)  # crosses reshuffles mid-chunk
    assert got == [int(b.next()[0]) for _ in range(18)]
    with pytest.raises(ValueError, match="batch_size == 1"):
        BatchSampler(7, 2, sampling, np.random.default_rng(3)).next_rows(2)


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_next_chunk_draws_what_next_draws(sampling):
    """Chunks of B = 3 on n = 10 (a partial last batch each epoch), into a caller's permutation array."""
    perm = np.empty(10, np.intp)
    a = BatchSampler(10, 3, sampling, np.random.default_rng(5), perm=perm)
    b = BatchSampler(10, 3, sampling, np.random.default_rng(5))
    out = np.empty(30, np.intp)
    for k in (2, 5, 1, 4, 3, 7):
        idx, steps, last = a.next_chunk(k, out=out)
        assert 1 <= steps <= k and (sampling == "shuffle" or steps == k)
        want = [b.next().copy() for _ in range(steps)]
        assert last == len(want[-1]) and all(len(w) == 3 for w in want[:-1])
        np.testing.assert_array_equal(idx, np.concatenate(want))
    assert sampling == "replacement" or a.perm is perm


@pytest.mark.parametrize("problem, dataset", [("least_squares", "linear"), ("logistic", "moons"),
                                              ("softmax", "blobs")])
def test_runner_at_b1_reaches_the_weights_of_a_plain_loop(problem, dataset):
    """The runner's fused B = 1 path against the reference loop (w -= lr*g) in the engine's batch order."""
    c = ExperimentConfig(problem=problem, dataset=dataset, n_samples=100, lrs=(0.05,), batch_sizes=(1,),
                         budget_unit="steps", budget=130, n_checkpoints=3, reg=0.01)
    ds = build_dataset(c)
    p = build_problem(c, ds)
    w = reference_run(p, ds.X_train, ds.y_train, p.init_params(np.random.default_rng([0, 0])), "sgd", 0.05, {}, 1,
                      "shuffle", np.random.default_rng([0, 1, 1]), 130).w
    log = run_experiment(c).log
    np.testing.assert_allclose(log["train_loss"].iloc[-1], p.loss(w, ds.X_train, ds.y_train), rtol=1e-10)


@pytest.mark.parametrize("B, gather_rows, sampling, optimizer", [
    (7, 16, "shuffle", "sgd"),  # 2 steps a chunk; 80 rows = 11 batches of 7 + a partial one of 3
    (7, 16, "replacement", "adam"),
    (32, 2048, "shuffle", "sgd"),  # a chunk is cut at each epoch's end
    (2, 4, "shuffle", "adam"),
])
@pytest.mark.parametrize("problem, dataset", [("least_squares", "linear"), ("logistic", "moons"),
                                              ("softmax", "blobs")])
def test_runner_small_batches_follow_a_plain_loop(problem, dataset, B, gather_rows, sampling, optimizer):
    """The gathered ones-column path (loop._Gathered) against the reference loop (train.reference.Descent):
    run_experiment's log at every checkpoint, and loop.make_advance with chunks of `gather_rows` rows (its
    gather_bytes) at every step, across chunk boundaries, partial batches and checkpoints inside a chunk."""
    from gd_core.train.loop import gather_rows as rows_of
    from gd_core.train.loop import make_advance

    c = ExperimentConfig(problem=problem, dataset=dataset, n_samples=100, lrs=(0.05,), batch_sizes=(B,),
                         budget_unit="steps", budget=60, n_checkpoints=7, reg=0.01, sampling=sampling,
                         optimizer=optimizer)
    ds = build_dataset(c)
    assert ds.n_train == 80
    X = ds.X_train
    gather_bytes = gather_rows * (X.shape[1] + 1) * X.dtype.itemsize
    assert rows_of(X, gather_bytes) == gather_rows
    p = build_problem(c, ds)
    w0 = p.init_params(np.random.default_rng([0, 0]))
    d = Descent(p, ds.X_train, ds.y_train, w0, make_optimizer(optimizer, 0.05))
    sampler = BatchSampler(ds.n_train, B, sampling, np.random.default_rng([0, 1, B]))
    log = run_experiment(c).log
    losses = {0: p.loss(d.w, ds.X_train, ds.y_train)}
    for step in range(1, 61):
        d.take(sampler.next())
        losses[step] = p.loss(d.w, ds.X_train, ds.y_train)
    assert log["step"].tolist() == checkpoint_steps(60, ds.n_train, B, sampling, 7)  # 7 even + updates 1, 60
    np.testing.assert_allclose(log["train_loss"], [losses[s] for s in log["step"]], rtol=1e-9)

    w = w0.copy()
    sampler = BatchSampler(ds.n_train, B, sampling, np.random.default_rng([0, 1, B]))
    chunks, next_chunk = [], sampler.next_chunk

    def counted(*a):  # the steps of each chunk gathered
        chunk = next_chunk(*a)
        chunks.append(chunk[1])
        return chunk

    sampler.next_chunk = counted
    hp = optimizer_hyperparameters(c)
    advance = make_advance(p, ds.X_train, ds.y_train, w, sampler, optimizer, hp, make_optimizer(optimizer, 0.05, **hp),
                           lambda step: 0.05, gather_bytes=gather_bytes)
    assert advance.path == "gathered"
    for step in range(60):  # one step a call: chunks carry across calls, as across checkpoints
        assert advance(step, step + 1, np.inf)[:1] == (step + 1,)
        np.testing.assert_allclose(p.loss(w, ds.X_train, ds.y_train), losses[step + 1], rtol=1e-9)
    K = max(1, gather_rows // B)  # steps a chunk of gather_rows rows holds
    assert max(chunks) <= K and len(chunks) >= 60 // K and sum(chunks) >= 60


# -- full batch on a large set: the chunked, threaded kernel ---------------------------------------------

@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("name", ["least_squares", "logistic", "softmax"])
def test_chunked_full_batch_kernel_equals_loss_and_grad_for_any_thread_count(name, reg):
    from concurrent.futures import ThreadPoolExecutor

    from gd_core.fast.full_batch import bind_full_gradient

    p, X, y, w = setup(name, reg, n=103)  # 103 = 14 chunks of 7 + a partial one
    loss, ref = p.loss_and_grad(w, X, y)
    g1 = np.empty_like(w)
    l1 = bind_full_gradient(p, w, g1, len(y), chunk=7)(X, y)
    np.testing.assert_allclose(l1, loss, rtol=1e-12)
    np.testing.assert_allclose(g1, ref, rtol=1e-10, atol=1e-14)
    with ThreadPoolExecutor(3) as pool:
        for threads in (2, 3):
            g = np.empty_like(w)
            f = bind_full_gradient(p, w, g, len(y), pool, threads, chunk=7)
            for _ in range(2):  # buffers reused across calls
                assert f(X, y) == l1  # chunk slots are summed in chunk order: bit-identical
                np.testing.assert_array_equal(g, g1)
    with pytest.raises(ValueError, match="chunked"):
        bind_full_gradient(make_problem("svm", D, C), w, g1, len(y))


@pytest.mark.parametrize("problem, dataset", [("least_squares", "linear"), ("logistic", "moons"),
                                              ("softmax", "blobs")])
def test_runner_full_batch_chunked_path_matches_the_plain_one_and_leaks_no_threads(problem, dataset, monkeypatch):
    import threading

    import gd_core.fast.full_batch as full_batch
    import gd_core.train.loop as loop
    import gd_core.train.runner as runner

    c = ExperimentConfig(problem=problem, dataset=dataset, n_samples=300, lrs=(0.1,), batch_sizes=("full",),
                         budget_unit="steps", budget=12, n_checkpoints=4, reg=0.01, eval_examples=100)
    plain = run_experiment(c)
    assert set(plain.paths.values()) == {"generic"}
    plain = plain.log
    for threads in (1, 2):
        monkeypatch.setattr(runner, "FULL_THREADS", threads)
        monkeypatch.setattr(loop, "FULL_CHUNKED_MIN", 64)  # the train set (~240 rows) is "large"
        monkeypatch.setattr(full_batch, "FULL_CHUNK", 50)  # several chunks per thread
        before = threading.active_count()
        result = run_experiment(c)
        chunked = result.log
        assert threading.active_count() == before
        assert set(result.paths.values()) == {"full_chunked"}  # the lowered FULL_CHUNKED_MIN reached the runner
        assert not [t for t in threading.enumerate() if t.name.startswith("gd-full-batch")]
        for col in ("train_loss", "val_loss", "batch_loss", "grad_norm"):
            np.testing.assert_allclose(chunked[col], plain[col], rtol=1e-6, err_msg=col)


# -- the checkpoint evaluator: one bound-kernel pass per set ---------------------------------------------

@pytest.mark.parametrize("n_val", [20, 0])
@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("name", ["least_squares", "logistic", "softmax", "svm", "mlp"])
def test_evaluator_reports_what_the_plain_problem_methods_give(name, reg, n_val, small_dataset):
    from gd_core.train.checkpoints import Evaluator

    p, _, _, w = setup(name, reg)
    ds = small_dataset(n=40, d=D, n_val=n_val, seed=1, **kind(name, C))
    ev = Evaluator(p, ds, 30, 0)  # a subsample of 30 train rows, the 20 val rows whole
    for w_at in (w, 0.5 * w, w):  # the evaluator keeps its own copy of w: later calls see new weights
        m, (loss, grad) = ev(w_at)
        ref_loss, ref_grad = p.loss_and_grad(w_at, ev.X, ev.y)
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(m["train_loss"], ref_loss, rtol=1e-12)
        if n_val:
            np.testing.assert_allclose(m["val_loss"], p.loss(w_at, ev.Xv, ev.yv), rtol=1e-12)
        else:  # no validation set (the engine benchmark's setting)
            assert np.isnan(m["val_loss"]) and np.isnan(m["val_accuracy"])
        np.testing.assert_allclose(m["grad_norm"], np.linalg.norm(ref_grad), rtol=1e-10)
        if p.is_classifier:
            assert m["train_accuracy"] == p.accuracy(w_at, ev.X, ev.y)
            if n_val:
                assert m["val_accuracy"] == p.accuracy(w_at, ev.Xv, ev.yv)
        else:
            assert np.isnan(m["train_accuracy"]) and np.isnan(m["val_accuracy"])
    g_before = grad.copy()
    ev(2 * w)
    np.testing.assert_array_equal(grad, g_before)  # the returned gradient is the caller's own array


@pytest.mark.parametrize("want_grad", [True, False])
def test_softmax_counted_kernel_counts_ties_like_argmax(want_grad):
    p, X, y, w = setup("softmax", n=12)
    w[:] = 0  # every score ties: predict's argmax takes class 0
    f = bind_gradient(p, w, np.empty_like(w), 12, count_correct=True, want_grad=want_grad)
    loss, hits = f(X, y)
    assert hits == int(np.count_nonzero(y == 0)) and loss == pytest.approx(np.log(C))
    w[-C:] = [0.0, 1.0, 1.0]  # ties between classes 1 and 2 only
    assert f(X, y)[1] == int(np.count_nonzero(y == 1)) == int(np.count_nonzero(p.predict(w, X) == y))


def test_softmax_evaluation_of_both_sets_counts_ties_like_argmax():
    from gd_core.fast.evaluation import bind_evaluation

    p, X, y, w = setup("softmax", n=20)
    f = bind_evaluation(p, w, np.empty_like(w), X[:12], y[:12], X[12:], y[12:])  # 12 train rows, 8 validation
    last = np.eye(C)[y[11]]  # every row predicted as the last train row's class: a hit at the sets' border
    for bias in ([0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 0.5], last):  # all tie, 1 and 2 tie, no tie
        w[:-C] = 0
        w[-C:] = bias
        loss, hits, vloss, vhits = f()
        assert hits == int(np.count_nonzero(p.predict(w, X[:12]) == y[:12]))
        assert vhits == int(np.count_nonzero(p.predict(w, X[12:]) == y[12:]))
        assert (loss, vloss) == pytest.approx((p.loss(w, X[:12], y[:12]), p.loss(w, X[12:], y[12:])), rel=1e-12)


def test_small_batch_gather_stays_small_on_wide_data():
    """The gathered chunk is bounded in bytes, not rows: wide data gather fewer rows (and large batches of wide
    data take the per-step gather)."""
    from gd_core.train.loop import GATHER_BYTES, gather_rows

    narrow, wide = np.empty((10, 64), np.float32), np.empty((10, 4000), np.float64)
    assert gather_rows(narrow) == GATHER_BYTES // (65 * 4) and gather_rows(wide) == GATHER_BYTES // (4001 * 8)
    assert gather_rows(wide) * 4001 * 8 <= GATHER_BYTES


@pytest.mark.parametrize("n_val", [20, 0])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_pooled_evaluation_equals_measuring_each_alone(reg, n_val, small_dataset):
    """Evaluator.many (softmax: several checkpoints in one pass) reports what one call per weight vector does,
    ties counted like argmax in one slot, and slots left over from a fuller pool are not read."""
    from gd_core.train.checkpoints import POOL, Evaluator

    p, _, _, w = setup("softmax", reg)
    ev = Evaluator(p, small_dataset(n=40, d=D, n_val=n_val, seed=1), 30, 0)
    assert ev.pool == POOL > 1
    tied = w.copy()
    tied[:-C] = 0
    tied[-C:] = [0.0, 1.0, 1.0]  # classes 1 and 2 tie on every row: argmax says 1
    ws = [w, 0.5 * w, tied, -w, 2 * w, w + 1, 0.1 * w, 3 * w]
    for batch in (ws, ws[:3], ws[5:]):  # a full pool, then partial ones over older slots
        for w_at, m in zip(batch, ev.many(batch), strict=True):
            alone = ev(w_at)[0]
            assert m.keys() == alone.keys()
            for key, value in alone.items():
                np.testing.assert_allclose(m[key], value, rtol=1e-12, err_msg=key)
    assert ev.many([tied])[0]["train_accuracy"] == p.accuracy(tied, ev.X, ev.y)


def test_only_small_softmax_sets_pool(small_dataset):
    from gd_core.train.checkpoints import POOL_MAX_ROWS, Evaluator

    def evaluator(name, rows):
        ds = small_dataset(n=rows, d=D, **kind(name, C))
        return Evaluator(make_problem(name, D, ds.n_classes), ds, rows, 0)

    assert evaluator("softmax", POOL_MAX_ROWS).pool > 1
    assert evaluator("softmax", POOL_MAX_ROWS + 1).pool == 1
    assert evaluator("least_squares", 40).pool == evaluator("mlp", 40).pool == 1
