"""gd_core.train.limits: the memory a request needs, what this process can get, and the refusal's message."""

import math
import resource

import numpy as np
import pytest

from gd_core import ExperimentConfig, load_csv_dataset
from gd_core.train import limits
from gd_core.train.limits import MemoryRefusal, available_memory, check_memory, csv_shape, estimate_peak_bytes


def test_available_memory_is_the_least_of_ram_and_the_process_limit():
    room, what = available_memory()
    with open("/proc/meminfo") as f:
        ram = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    assert 0 < room <= ram * 1.1 and what  # MemAvailable moves a little between the two reads
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as f:
        vm_size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    limit = vm_size + (1 << 30)  # room for 1 GiB more than this process has mapped now
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        room, what = available_memory()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert "ulimit -v" in what and 0.8 * (1 << 30) < room <= 1 << 30


def test_the_cgroup_limit_counts(monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "_cgroup_room", lambda: 123 * 2**20)
    assert available_memory() == (123 * 2**20, "the cgroup's memory limit")


def test_refusal_names_need_room_and_what_to_shrink():
    config = ExperimentConfig(problem="softmax", dataset="blobs", n_samples=2_000_000, n_features=1000,
                              n_classes=10, batch_sizes=(256,))
    peak = sum(estimate_peak_bytes(config, 1_600_000, 1000, 10, parts=True))
    assert peak == estimate_peak_bytes(config, 1_600_000, 1000, 10) > 2_000_000 * 1000 * 8  # at least the data
    need = peak + limits.WORKING_RESERVE
    assert check_memory([config], (need + 1, "test")) == need
    with pytest.raises(MemoryRefusal) as e:
        check_memory([config], (4 * 2**30, "ulimit -v, the process's address-space limit"))
    msg = str(e.value)
    assert msg.startswith(f"this request needs about {need / 2**30:,.1f} GB of memory (data ") and "\n" not in msg
    assert "but 4.0 GB is available (ulimit -v, the process's address-space limit)" in msg
    factor = math.ceil(10 * need / 2**32) / 10
    assert f"shrink it about {factor:.1f}x: fewer samples or features, --dtype float32" in msg
    assert "working memory 64 MB) but" in msg
    with pytest.raises(MemoryRefusal, match=r"x 2 processes.*fewer --jobs$"):
        check_memory([config], (need * 1.5, "test"), processes=2)


def test_csv_shape_is_exact_for_a_small_file_and_close_for_a_large_one(tmp_path):
    small = tmp_path / "s.csv"
    small.write_text("a,b,y\n1,2,0\n3,4,1\n\n5,6,0\n")
    assert csv_shape(small) == (3, 3)
    assert csv_shape(tmp_path / "missing.csv") == (0, 0)
    rng = np.random.default_rng(0)
    big = tmp_path / "b.csv"
    rows = rng.normal(size=(60_000, 5)) * 10.0 ** rng.integers(-3, 4, size=(60_000, 1))  # lines of varied length
    np.savetxt(big, rows, delimiter=";", header="a;b;c;d;y", comments="", fmt="%.6g")
    n, columns = csv_shape(big)
    assert columns == 5 and n == pytest.approx(60_000, rel=0.05)
    config = ExperimentConfig(dataset="csv", csv_path=str(big), target="y", problem="least_squares",
                              batch_sizes=(32,))
    n_train, d, outputs = limits.request_shape(config)
    assert (d, outputs) == (4, 1) and n_train == pytest.approx(48_000, rel=0.05)
    assert load_csv_dataset(str(big), "y").n_train == 48_000


def test_memory_error_message_is_one_line():
    msg = limits.memory_error_message(MemoryError("Unable to allocate\n8 GiB"))
    assert msg.startswith("out of memory: Unable to allocate 8 GiB; ") and "\n" not in msg
    assert math.isfinite(available_memory()[0])
