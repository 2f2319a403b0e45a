"""The real datasets shipped in gd_core/data/real_csv: equal to scikit-learn's loaders, checksummed, loaded offline,
split and selected like the generated ones, and their fixed sizes enforced with clear messages."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import datasets as skd

from gd_core import ConfigError, ExperimentConfig, dataset_info, make_dataset
from gd_core.data.real import DATA_DIR, REAL, REAL_DATASETS, load_real_dataset, read_real_csv

LOADERS = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer,
           "digits": skd.load_digits, "diabetes": lambda: skd.load_diabetes(scaled=False)}
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_each_shipped_file_equals_its_scikit_learn_loader(name):
    bunch = LOADERS[name]()
    names, X, y = read_real_csv(name)
    np.testing.assert_array_equal(X, bunch.data)  # exact: the file holds shortest round-trip numbers
    np.testing.assert_array_equal(y, bunch.target)
    assert names == tuple(str(f) for f in bunch.feature_names)
    s = REAL[name]
    assert (s.n_samples, s.n_features) == bunch.data.shape
    if s.task == "classification":
        assert y.dtype == np.int64 and s.class_names == tuple(str(c) for c in bunch.target_names)
        assert s.n_classes == len(bunch.target_names)
    else:
        assert y.dtype == np.float64 and s.n_classes is None and s.class_names is None
    if s.image_shape is not None:
        np.testing.assert_array_equal(X.reshape(-1, *s.image_shape), bunch.images)


def test_provenance_names_every_file_with_its_rows_columns_and_sha256():
    text = (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    table = r"\| `(\w+)\.csv` \| ([\d,]+) \| (\d+) \| [^|]+ \| `([0-9a-f]{64})` \|"
    rows = {m[0]: m[1:] for m in re.findall(table, text)}
    assert set(rows) == set(REAL_DATASETS) == {p.stem for p in DATA_DIR.glob("*.csv")}
    for name, (n_rows, n_columns, sha) in rows.items():
        assert hashlib.sha256((DATA_DIR / f"{name}.csv").read_bytes()).hexdigest() == sha, name
        assert (int(n_rows.replace(",", "")), int(n_columns)) == (REAL[name].n_samples, REAL[name].n_features)
        assert f"## {name} (`load_" in text  # a section with its source and licence
    assert text.count("CC BY 4.0") >= 4 and "BSD 3-Clause" in text


def test_the_sets_load_without_scikit_learn():
    code = ("import sys; sys.modules['sklearn'] = None; from gd_core import make_dataset; "
            "print(make_dataset('digits').X_train.shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "(1438, 64)"


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_split_is_a_seeded_partition_standardised_by_train_statistics(name):
    s = REAL[name]
    _, X, y = read_real_csv(name)
    ds = load_real_dataset(name, val_fraction=0.25, seed=3)
    n_val = round(s.n_samples * 0.25)
    assert (ds.n_train, ds.n_val, ds.n_features, ds.n_classes) == (s.n_samples - n_val, n_val, s.n_features,
                                                                   s.n_classes)
    order = np.random.default_rng(3).permutation(s.n_samples)
    raw_train, raw_val = X[order[n_val:]], X[order[:n_val]]
    mean, std = raw_train.mean(axis=0), raw_train.std(axis=0)
    std = np.where(std > 0, std, np.inf)  # digits has all-zero pixel columns: they become 0
    np.testing.assert_allclose(ds.X_train, (raw_train - mean) / std, atol=1e-12)
    np.testing.assert_allclose(ds.X_val, (raw_val - mean) / std, atol=1e-12)
    if s.task == "classification":
        np.testing.assert_array_equal(ds.y_train, y[order[n_val:]])
        np.testing.assert_array_equal(ds.y_val, y[order[:n_val]])
    else:  # standardised; target_scale is the raw train std
        yt = y[order[n_val:]]
        assert ds.target_scale == pytest.approx(yt.std())
        np.testing.assert_allclose(ds.y_train * ds.target_scale + yt.mean(), yt, rtol=1e-12)
    again = load_real_dataset(name, val_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again.X_train, ds.X_train)
    assert not np.array_equal(load_real_dataset(name, val_fraction=0.25, seed=4).X_train, ds.X_train)


def test_label_noise_and_n_unique_work_as_for_generated_data():
    clean = load_real_dataset("iris", seed=1)
    noisy = load_real_dataset("iris", seed=1, label_noise=0.2)
    changed = clean.y_train != noisy.y_train
    assert changed.sum() == round(0.2 * clean.n_train)  # each flipped label became another class
    np.testing.assert_array_equal(noisy.y_val, clean.y_val)  # validation stays clean
    tiled = load_real_dataset("digits", n_unique=10, dtype="float32")
    assert tiled.X_train.dtype == np.float32 and tiled.n_train == 1438
    assert len(np.unique(tiled.X_train, axis=0)) <= 10
    diabetes = load_real_dataset("diabetes", label_noise=0.5, standardize=False)
    assert diabetes.target_scale == 1.0
    assert sorted(diabetes.y_train) == sorted(load_real_dataset("diabetes", standardize=False).y_train)


@pytest.mark.parametrize("kwargs, message", [
    ({"label_noise": 1.0}, r"label_noise must be in \[0, 1\); got 1.0"),
    ({"val_fraction": -0.1}, r"val_fraction must be in \[0, 1\); got -0.1"),
    ({"seed": -2}, r"seed must be an integer >= 0; got -2"),
    ({"n_unique": 0}, r"n_unique must be None or an integer in \[1, n_train=120\]; got 0"),
    ({"dtype": "int8"}, r"dtype must be 'float64' or 'float32'; got 'int8'"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_real_dataset("iris", **kwargs)
    with pytest.raises(ValueError, match=r"dataset must be one of .*digits.*; got 'mnist'"):
        load_real_dataset("mnist")


def test_a_damaged_file_gets_a_message_not_a_traceback(tmp_path, monkeypatch):
    from gd_core.data import real
    monkeypatch.setattr(real, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="iris.csv cannot be read .* restore it from the repository"):
        load_real_dataset("iris")
    (tmp_path / "iris.csv").write_text("a,b,target\n1,2,0\n")
    with pytest.raises(ValueError, match="holds 1 rows of 3 columns; expected 150 rows of 5"):
        load_real_dataset("iris")


def test_make_dataset_and_dataset_info_know_the_real_sets():
    ds = make_dataset("wine", 10, 2, 7, noise=3.0, seed=2)  # sizes and generator knobs are ignored
    np.testing.assert_array_equal(ds.X_train, load_real_dataset("wine", seed=2).X_train)
    assert dataset_info("breast_cancer") == ("classification", 2, None)
    assert dataset_info("diabetes") == ("regression", None, None)


def test_config_fixes_the_sizes_and_links_stay_short():
    c = ExperimentConfig(dataset="digits", n_samples=50, n_features=2, n_classes=3, batch_sizes=(1, "full"))
    assert (c.n_samples, c.n_features, c.n_classes, c.n_train()) == (1797, 64, 10, 1438)
    assert c.to_query() == {"dataset": "digits", "batch_sizes": "1,full"}
    assert ExperimentConfig.from_query(c.to_query()) == (c, [])
    assert ExperimentConfig.from_dict(c.to_dict()) == c  # its own values are not a clash
    d = ExperimentConfig(dataset="diabetes", problem="least_squares", n_classes=7, batch_sizes=(1, "full"))
    assert (d.n_samples, d.n_features, d.n_classes) == (442, 10, 7)  # n_classes: unused by regression


def test_a_links_clashing_size_is_ignored_with_a_message_and_json_refuses_it():
    config, errors = ExperimentConfig.from_query({"dataset": "iris", "n_samples": "30", "n_classes": "3",
                                                  "batch_sizes": "1,full"})
    assert config.n_samples == 150 and errors == [
        "n_samples is fixed at 150 by the real dataset iris; got 30 (the link's value is ignored)"]
    with pytest.raises(ConfigError, match="n_features is fixed at 13 by the real dataset wine; got 2: leave the "
                                          "field out or give the set's value"):
        ExperimentConfig.from_dict({"dataset": "wine", "n_features": 2})
    with pytest.raises(ConfigError, match=r'batch_size must be in \[1, 120\] .*got 256'):
        ExperimentConfig(dataset="iris")  # the default sizes include 256 > iris's 120 training rows
    with pytest.raises(ConfigError, match=r"logistic needs exactly 2 classes; got 3 classes in dataset iris "
                                          r"\(use softmax\)"):
        ExperimentConfig(dataset="iris", problem="logistic", batch_sizes=(1,))
    with pytest.raises(ConfigError, match="least_squares needs a regression dataset .*diabetes"):
        ExperimentConfig(dataset="digits", problem="least_squares", batch_sizes=(1,))


def test_the_cli_runs_a_real_set_and_names_a_clash(tmp_path):
    out = tmp_path / "log.csv"
    ok = subprocess.run([sys.executable, "-m", "gd_core", "run", "--dataset", "breast_cancer", "--problem", "logistic",
                         "--batch-sizes", "8,full", "--epochs", "2", "--out", str(out), "--quiet"],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "breast_cancer" in out.read_text()
    bad = subprocess.run([sys.executable, "-m", "gd_core", "run", "--dataset", "digits", "--n-features", "5",
                          "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert bad.stderr == ("error: n_features is fixed at 64 by the real dataset digits; got '5': leave the field "
                          "out or give the set's value\n")
