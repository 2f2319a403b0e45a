"""The shared run store: hits on rerun (the replay crash of a progress bar inside st.cache_data), copies,
bounds, and two sessions with different configs each seeing their own results."""

import weakref

from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, Results, run_experiment
from ui import cache
from ui.cache import RunStore, frame_digest


def _page():
    import streamlit as st

    from gd_core import ExperimentConfig
    from ui import cache

    n = int(st.query_params.get("n", "100"))
    r = cache.run(ExperimentConfig(n_samples=n, batch_sizes=(4, "full"), budget=1, n_checkpoints=5))
    r.log["train_loss"] = -1.0  # a caller mutating its copy must not reach the store
    again = cache.run(ExperimentConfig(n_samples=n, batch_sizes=(4, "full"), budget=1, n_checkpoints=5))
    st.write(f"rows={len(again.log)} min={again.log['train_loss'].min():.6f} ntrain={again.log['batch_size'].max()}")


def test_rerun_hits_the_store_without_error_and_copies_are_private():
    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception
    first = at.markdown[0].value
    at.run()  # second script run: a cache hit
    assert not at.exception
    assert at.markdown[0].value == first
    assert "min=-" not in first


def test_two_sessions_with_different_configs_see_their_own_results():
    a = AppTest.from_function(_page, default_timeout=60)
    b = AppTest.from_function(_page, default_timeout=60)
    a.query_params["n"] = "100"
    b.query_params["n"] = "150"
    a.run(), b.run(), a.run()
    assert "ntrain=80" in a.markdown[0].value and "ntrain=120" in b.markdown[0].value


def test_store_is_bounded_in_entries_and_bytes():
    r = run_experiment(ExperimentConfig(n_samples=60, batch_sizes=(4,), budget=1, n_checkpoints=3))
    store = RunStore(max_entries=3, max_bytes=10**9)
    for i in range(5):
        store.put(str(i), r)
    assert len(store) == 3 and store.get("0") is None and store.get("4") is not None
    tiny = RunStore(max_entries=10, max_bytes=1)
    tiny.put("a", r), tiny.put("b", r)
    assert len(tiny) == 1 and tiny.get("b") is not None


def _small_run(n: int):
    return run_experiment(ExperimentConfig(n_samples=n, batch_sizes=(4,), budget=1, n_checkpoints=3))


def test_a_stored_logs_digest_is_made_once_and_not_kept_past_its_eviction(monkeypatch):
    made = []
    monkeypatch.setattr(cache, "frame_digest", lambda df: made.append(len(df)) or frame_digest(df))
    store, r, other = RunStore(max_entries=1, max_bytes=10**9), _small_run(60), _small_run(80)
    store.put("a", r)
    assert store.log_digest(r) == store.log_digest(r) == frame_digest(r.log) and len(made) == 1  # once
    copy = Results(r.log.copy(), r.summary.copy(), r.config)
    assert store.log_digest(copy) == store.log_digest(copy) == frame_digest(r.log) and len(made) == 3  # not stored
    gone = weakref.ref(r.log)
    store.put("b", other)  # evicts "a"
    del r, copy
    assert gone() is None  # the memo does not keep an evicted log alive
    assert store.log_digest(store.get("b")) == frame_digest(other.log)


def test_session_run_gives_a_private_copy_and_the_digest_of_the_stored_log():
    def page():
        import streamlit as st

        from gd_core import ExperimentConfig
        from ui import cache

        config = ExperimentConfig(n_samples=90, batch_sizes=(4, "full"), budget=1, n_checkpoints=5)
        first = cache.session_run(config)
        first.results.log["train_loss"] = -1.0  # the session's copy: its digest still names the stored log
        again = cache.session_run(config)
        st.write(f"{first.log_digest == again.log_digest == cache.frame_digest(again.results.log)} "
                 f"{again.results.log['train_loss'].min() > 0}")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception and at.markdown[0].value == "True True"
