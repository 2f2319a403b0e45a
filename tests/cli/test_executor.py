"""gd_core.cli.executor: run groups on local processes or a Dask cluster give the serial log; stops reach
running groups; bad scheduler flags are one line. The Dask tests are the `dask` group (requirements-dask.txt):
`python -m pytest -m dask`."""

import builtins
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from gd_core import ExperimentConfig
from gd_core.cli import executor
from gd_core.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
# 5 batch sizes x 10 lrs x 2 seeds = 100 runs, ~1 s serial
SWEEP = ["sweep", "--problem", "least_squares", "--dataset", "linear", "--n-samples", "200", "--n-features", "3",
         "--noise", "0.3", "--batch-sizes", "1,2,4,8,16", "--lrs", "0.01,0.02,0.03,0.05,0.1,0.2,0.3,0.5,0.7,1",
         "--set", "seeds=0,1", "--target-loss", "0.1", "--epochs", "2", "--min-steps", "20", "--checkpoints", "20",
         "--quiet"]
RUN = ["run", "--problem", "softmax", "--dataset", "blobs", "--n-samples", "400", "--n-features", "4",
       "--batch-sizes", "1,8,full", "--lr", "0.05,0.2", "--set", "seeds=0,1", "--epochs", "3", "--quiet"]


def csv_text(path) -> str:
    """The CSV file without its measured wall_time_s column, as text: equal strings are equal files."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="wall_time_s").to_csv(index=False)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    d = tmp_path_factory.mktemp("serial")
    assert main([*SWEEP, "--out", str(d / "sweep.csv"), "--summary", str(d / "summary.csv")]) == 0
    assert main([*RUN, "--out", str(d / "run.csv")]) == 0
    return d


def test_local_processes_give_the_serial_csv(serial, tmp_path):
    assert main([*SWEEP, "--jobs", "2", "--out", str(tmp_path / "s.csv")]) == 0
    assert csv_text(tmp_path / "s.csv") == csv_text(serial / "sweep.csv")
    assert main([*RUN, "--jobs", "2", "--out", str(tmp_path / "r.csv")]) == 0
    assert csv_text(tmp_path / "r.csv") == csv_text(serial / "run.csv")


def test_assemble_log_restores_the_runner_order():
    from gd_core import run_experiment

    config = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=100, n_features=2,
                              batch_sizes=(1, 4, "full"), lrs=(0.05, 0.1), seeds=(0, 3), budget=1.0)
    groups = executor.split_by_batch_size(config, config.n_train())
    assert [g.batch_sizes for g in groups] == [(1,), (4,), (config.n_train(),)]
    whole = run_experiment(config).log.drop(columns="wall_time_s")
    parts = [run_experiment(g).log for g in groups]
    pd.testing.assert_frame_equal(executor.assemble_log(config, parts).drop(columns="wall_time_s"), whole)


@pytest.mark.parametrize("flags, message", [
    (["--scheduler", "foo:1"], "--scheduler must be tcp://HOST:PORT, tls://HOST:PORT or local:N"),
    (["--scheduler", "local:0"], "local:N"),
    (["--scheduler", "tcp://host:99999"], "--scheduler must be"),
    (["--scheduler", "tls://127.0.0.1:8786"], "needs --tls-ca-file, --tls-cert and --tls-key"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--tls-ca-file", __file__, "--tls-cert", __file__, "--tls-key",
      __file__], "the TLS options need a tls:// scheduler"),
    (["--scheduler", "tls://127.0.0.1:8786", "--tls-ca-file", "/no/such.pem"], "--tls-ca-file must name a"),
])
def test_bad_scheduler_flags_are_one_line(flags, message, tmp_path, capsys):
    for command in (SWEEP, RUN):
        assert main([*command, *flags, "--out", str(tmp_path / "x.csv")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "x.csv").exists()


def test_missing_distributed_says_how_to_install(monkeypatch, tmp_path, capsys):
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "gd_core.cli.dask_executor", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_dask)
    assert main([*SWEEP, "--scheduler", "local:2", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install -r requirements-dask.txt" in err


# -- Dask ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as c:
        yield c


@pytest.mark.dask
def test_100_run_sweep_on_a_local_cluster_gives_the_serial_csv(cluster, serial, tmp_path):
    out = tmp_path / "s.csv"
    assert main([*SWEEP, "--scheduler", cluster.scheduler_address, "--out", str(out),
                 "--summary", str(tmp_path / "summary.csv")]) == 0
    assert pd.read_csv(out)["run_id"].nunique() == 100
    assert csv_text(out) == csv_text(serial / "sweep.csv")
    assert (tmp_path / "summary.csv").read_text() == (serial / "summary.csv").read_text()
    assert main([*RUN, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "r.csv")]) == 0
    assert csv_text(tmp_path / "r.csv") == csv_text(serial / "run.csv")


def _executing(dask_worker) -> int:
    return len(dask_worker.state.executing)


@pytest.mark.dask
def test_a_stop_reaches_running_groups(cluster):
    # Two groups that would train for hours (1e9 B = 1 steps) are running on the two workers; a stop makes both
    # return their rows so far, marked cancelled, instead of running on.
    config = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=200, n_features=3, lrs=(0.01,),
                              batch_sizes=(1,), budget_unit="steps", budget=1e9, n_checkpoints=1000)
    configs = [config.replace(batch_sizes=(1,), seeds=(s,)) for s in (0, 1)]
    ex = executor.open_executor(scheduler=cluster.scheduler_address)
    stop, out = threading.Event(), {}

    def sweep():
        out["logs"], out["complete"] = executor.run_groups(ex, configs, config, should_stop=stop.is_set)

    thread = threading.Thread(target=sweep)
    try:
        thread.start()
        end = time.monotonic() + 60
        while sum(ex.client.run(_executing).values()) < 2:
            assert time.monotonic() < end, "the two groups never ran"
            time.sleep(0.05)
        time.sleep(0.3)  # both are past their first checkpoints, training
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the running groups did not stop"
    finally:
        stop.set()
        thread.join()
        ex.close()
    assert out["complete"] is False and sorted(out["logs"]) == [0, 1]
    for log in out["logs"].values():
        assert log["status"].iloc[-1] == "cancelled" and log["step"].max() < 1e9


@pytest.mark.dask
def test_unreachable_scheduler_is_one_line(monkeypatch, tmp_path, capsys):
    pytest.importorskip("distributed")
    from gd_core.cli import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    assert main([*SWEEP, "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


def _write_certs(folder: Path) -> dict[str, Path]:
    from distributed.security import Security

    sec = Security.temporary()  # one CA and one certificate for everyone (needs `cryptography`)
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_text(sec.tls_ca_file)
    files["cert"].write_text(sec.tls_client_cert)
    files["key"].write_text(sec.tls_client_key)
    return files


@pytest.mark.dask
@pytest.mark.parametrize("protocol", ["tcp", "tls"])
def test_dask_scheduler_and_two_workers_on_loopback(protocol, serial, tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    file = tmp_path / "scheduler.json"
    tls, flags = [], []
    if protocol == "tls":
        certs = _write_certs(tmp_path)
        tls = ["--tls-ca-file", str(certs["ca"]), "--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"])]
        flags = tls
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                 "--protocol", protocol, "--dashboard-address", ":0", "--scheduler-file", str(file), *tls]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file), "--nthreads", "1",
              "--no-dashboard", "--no-nanny", *tls]
    procs = [subprocess.Popen(scheduler, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        end = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < end and procs[0].poll() is None, "the scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole before the scheduler listens; let it finish writing
        address = pd.read_json(file, typ="series")["address"]
        assert address.startswith(f"{protocol}://127.0.0.1:")
        procs += [subprocess.Popen(worker, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]
        out = tmp_path / "s.csv"
        assert main([*SWEEP, "--scheduler", address, *flags, "--out", str(out)]) == 0
        assert csv_text(out) == csv_text(serial / "sweep.csv")
        if protocol == "tls":  # the same port refuses a client without the certificates
            from gd_core.cli import dask_executor

            monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 2)
            assert main([*SWEEP, "--scheduler", address.replace("tls://", "tcp://"),
                         "--out", str(tmp_path / "x.csv")]) == 2
            assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs[::-1]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()



@pytest.mark.dask
def test_ctrl_c_to_the_process_group_stops_a_local_cluster_sweep(tmp_path):
    # A terminal's Ctrl-C reaches the whole process group, local Dask workers included: they must ignore it
    # (the driver's stop Event ends their work), or the sweep waits forever for workers that died.
    import signal

    psutil = pytest.importorskip("psutil")
    out = tmp_path / "s.csv"
    cmd = [sys.executable, "-m", "gd_core", "sweep", "--problem", "least_squares", "--dataset", "linear",
           "--n-samples", "2000", "--n-features", "8", "--batch-sizes", "1,2,4", "--lrs", "0.01,0.02", "--target-loss",
           "1e-9", "--min-steps", "10000000", "--max-steps", "10000000", "--checkpoints", "10", "--out", str(out),
           "--scheduler", "local:2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while sum("spawn_main" in " ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(recursive=True)
                  if c.is_running()) < 2:
            assert proc.poll() is None and time.monotonic() < end, "the local cluster did not start"
            time.sleep(0.2)
        time.sleep(3)  # the groups are training
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "stopped early: partial results" in err
    log = pd.read_csv(out)
    assert (log["status"] == "cancelled").any() and log["step"].max() < 10_000_000
