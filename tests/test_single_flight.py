"""ui.cache: identical configs asked for at the same time are computed once (SingleFlight), and a long
computation lets a short one in at its next check (FairGate)."""

import threading

import pandas as pd
import pytest

import ui.cache as cache
from gd_core import ExperimentConfig, run_experiment
from ui.cache import Account, FairGate, RunStore, SingleFlight, results_for

CONFIG = ExperimentConfig(n_samples=200, batch_sizes=(1, 8), lrs=(0.05,), budget=3, n_checkpoints=5)


@pytest.fixture
def slow_calls(monkeypatch):
    """Every run_experiment call the cache makes, each held until the test has started all its threads."""
    seen, go = [], threading.Event()

    def counting(config, **kw):
        seen.append(config.batch_sizes)
        go.wait(30)
        return run_experiment(config, **kw)

    monkeypatch.setattr(cache, "run_experiment", counting)
    return seen, go


def test_ten_identical_configs_at_once_run_the_engine_once_per_group(slow_calls):
    seen, go = slow_calls
    store, out = RunStore(slots=2), [None] * 10
    threads = [threading.Thread(target=lambda k=k: out.__setitem__(k, results_for(CONFIG, store=store)))
               for k in range(10)]
    for t in threads:
        t.start()
    for _ in range(3000):  # one leader is computing; the others have time to ask for the same group
        if seen:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.5)
    go.set()
    for t in threads:
        t.join(60)
    assert sorted(seen) == [(1,), (8,)]  # two groups, each computed once for all ten sessions
    want = run_experiment(CONFIG).log.drop(columns="wall_time_s")
    for r in out:
        pd.testing.assert_frame_equal(r.log.drop(columns="wall_time_s"), want)


def test_ten_identical_configs_at_once_put_their_groups_together_once(monkeypatch):
    """The sessions that waited for the same groups get them at the same moment: one of them assembles and
    summarizes them (each doing so cost a session ~10 ms at the home page's default), the others share its result."""
    store, assembled, out = RunStore(slots=2), [], [None] * 10
    for b in CONFIG.batch_sizes:  # the groups are computed: all ten reach the assembly at once
        results_for(CONFIG.replace(batch_sizes=(b,)), store=store)
    real = cache._assemble

    def slow_assemble(config, parts):
        assembled.append(config)
        threading.Event().wait(0.3)  # time for the other callers to reach the assembly too
        return real(config, parts)

    monkeypatch.setattr(cache, "_assemble", slow_assemble)
    threads = [threading.Thread(target=lambda k=k: out.__setitem__(k, results_for(CONFIG, store=store)))
               for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(assembled) == 1
    assert all(r is out[0] for r in out)  # the store's object: ui.cache.run copies it for each session


def test_a_waiter_computes_itself_when_the_leader_fails():
    flights, started, calls = SingleFlight(), threading.Event(), []
    release = threading.Event()

    def failing(report):
        calls.append("leader")
        started.set()
        release.wait(30)
        raise RuntimeError("the leader's session ended")

    def leader():
        with pytest.raises(RuntimeError):
            flights.do("k", failing)

    t = threading.Thread(target=leader)
    t.start()
    started.wait(30)
    ticks = []
    result = {}

    def waiter():
        result["v"] = flights.do("k", lambda report: calls.append("waiter") or 42, tick=ticks.append)

    w = threading.Thread(target=waiter)
    w.start()
    while not ticks:  # the waiter is waiting on the leader's flight
        threading.Event().wait(0.01)
    release.set()
    t.join(30)
    w.join(30)
    assert calls == ["leader", "waiter"] and result["v"] == 42 and len(flights) == 0


def test_a_cancelled_result_is_not_shared():
    flights, first_in, calls = SingleFlight(), threading.Event(), []
    release = threading.Event()

    def cancelled(report):
        first_in.set()
        release.wait(30)
        return "cancelled"

    out = {}
    a = threading.Thread(target=lambda: out.setdefault("a", flights.do("k", cancelled)))
    a.start()
    first_in.wait(30)
    b = threading.Thread(target=lambda: out.setdefault("b", flights.do(
        "k", lambda report: calls.append(1) or "done", tick=lambda f: release.set(), usable=lambda r: r == "done")))
    b.start()
    a.join(30)
    b.join(30)
    assert out == {"a": "cancelled", "b": "done"} and calls == [1]


def test_a_long_computation_lets_a_short_one_in_at_its_next_check():
    gate = FairGate(slots=1, quantum_s=0.0)
    events, heavy_in, light_done = [], threading.Event(), threading.Event()

    def heavy():
        with gate.slot() as slot:
            heavy_in.set()
            while not light_done.is_set():  # the engine's checks, between steps
                slot.turn()
                threading.Event().wait(0.005)
            events.append("heavy checked after light")

    def light():
        with gate.slot():
            events.append("light ran")
        light_done.set()

    h = threading.Thread(target=heavy)
    h.start()
    heavy_in.wait(30)
    lt = threading.Thread(target=light)
    lt.start()
    lt.join(30)
    h.join(30)
    assert events == ["light ran", "heavy checked after light"]


def test_a_gate_holds_at_most_its_slots():
    gate, inside, peak, lock = FairGate(slots=2, quantum_s=10.0), [0], [0], threading.Lock()

    def work():
        with gate.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak[0] == 2 and inside[0] == 0


def test_a_free_slot_goes_to_the_waiting_request_that_has_had_the_least():
    gate, order, holding = FairGate(slots=1, quantum_s=10.0), [], threading.Event()
    release = threading.Event()
    served = Account()
    served.used = 30.0  # a long request that has already computed for 30 s

    def hold():
        with gate.slot():
            holding.set()
            release.wait(30)

    def wait_for_slot(name, account):
        with gate.slot(account=account):
            order.append(name)

    h = threading.Thread(target=hold)
    h.start()
    holding.wait(30)
    long_one = threading.Thread(target=wait_for_slot, args=("long, queued first", served))
    long_one.start()
    while len(gate._queue) < 1:
        threading.Event().wait(0.005)
    short_one = threading.Thread(target=wait_for_slot, args=("new, queued second", Account()))
    short_one.start()
    while len(gate._queue) < 2:
        threading.Event().wait(0.005)
    release.set()
    for t in (h, long_one, short_one):
        t.join(30)
    assert order == ["new, queued second", "long, queued first"]


def test_a_computation_yields_only_to_one_that_has_had_a_quantum_less():
    gate = FairGate(slots=1, quantum_s=0.0)
    running = cache._Slot(gate, None)
    gate.acquire(running)
    assert not gate.should_yield(running)  # nobody waits
    heavier = cache._Slot(gate, None, Account())
    heavier.account.used = 1e6
    gate._queue.append(heavier)  # waiting (as acquire would queue it)
    assert not gate.should_yield(running)  # the waiting one has had far more of the host
    gate._queue.append(cache._Slot(gate, None, Account()))  # a new request: nothing computed yet
    threading.Event().wait(0.01)
    assert gate.should_yield(running)
    slow = FairGate(slots=1, quantum_s=3600.0)
    holder = cache._Slot(slow, None)
    slow.acquire(holder)
    slow._queue.append(cache._Slot(slow, None, Account()))
    assert not slow.should_yield(holder)  # both new: it keeps the slot for its quantum
    gate = FairGate(slots=1, quantum_s=1.0)
    long_one = cache._Slot(gate, None, Account())
    long_one.account.used = 100.0  # a long request, back in the slot a moment ago
    gate.acquire(long_one)
    gate._queue.append(cache._Slot(gate, None, Account()))
    assert gate.should_yield(long_one)  # a new request waits: it gets in at once, not after a quantum


def test_a_requests_groups_are_charged_to_one_account(monkeypatch):
    store, accounts = RunStore(), []
    real = store.gate.slot

    def recording(tick=None, account=None):
        accounts.append(account)
        return real(tick, account)

    monkeypatch.setattr(store.gate, "slot", recording)
    results_for(CONFIG, store=store)
    assert len(accounts) == 2 and accounts[0] is accounts[1] and accounts[0].used > 0


def test_a_short_request_keeps_the_slot_between_its_groups(monkeypatch):
    monkeypatch.setattr(cache, "LINGER_S", 30.0)  # the claim outlasts any delay of this test's threads
    gate, light, order = FairGate(slots=1, quantum_s=10.0), Account(), []
    first = cache._Slot(gate, None, light)
    gate.acquire(first)
    heavy = Account()
    heavy.used = 100.0  # a long request, waiting for the slot

    def long_one():
        with gate.slot(account=heavy):
            order.append("heavy")

    t = threading.Thread(target=long_one)
    t.start()
    while len(gate._queue) < 1:
        threading.Event().wait(0.005)
    gate.release(first)  # the short request's first group is done
    assert gate._claimant() is light and not gate._may_take(gate._queue[0])  # the waiting long one may not take it
    second = cache._Slot(gate, None, light)
    gate.acquire(second)  # its next group: at once
    order.append("light's next group")
    light.used = 1000.0  # past the long one: its release leaves no claim
    gate.release(second)
    t.join(30)
    assert order == ["light's next group", "heavy"] and gate._claim is None
