"""Synthetic generators and the CSV loader (gd_core/data/synthetic.py, gd_core/data/csv.py)."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gd_core.data import csv as csv_data
from gd_core.data import csv_fast, csv_text
from gd_core.data.csv import CSVError, load_csv_dataset, read_csv_columns
from gd_core.data.dataset import Dataset
from gd_core.data.synthetic import DATASETS, dataset_info, make_dataset

CLASSIFIERS = [n for n in DATASETS if dataset_info(n).task == "classification"]


def _arrays(ds: Dataset):
    return ds.X_train, ds.y_train, ds.X_val, ds.y_val


# ---- make_dataset -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_gives_identical_arrays_and_other_seed_differs(name):
    a = make_dataset(name, 300, 3, seed=7, label_noise=0.1, n_unique=50)
    b = make_dataset(name, 300, 3, seed=7, label_noise=0.1, n_unique=50)
    c = make_dataset(name, 300, 3, seed=8, label_noise=0.1, n_unique=50)
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.tobytes() == y.tobytes()
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", DATASETS)
def test_shapes_dtypes_contiguity(name, dtype):
    ds = make_dataset(name, 250, 4, 3, val_fraction=0.2, dtype=dtype)
    assert (ds.n_train, ds.n_val, ds.n_features) == (200, 50, 4)
    assert ds.X_train.shape == (200, 4) and ds.X_val.shape == (50, 4)
    assert ds.y_train.shape == (200,) and ds.y_val.shape == (50,)
    assert ds.X_train.dtype == ds.X_val.dtype == np.dtype(dtype)
    y_dtype = np.dtype(dtype) if ds.task == "regression" else np.int64
    assert ds.y_train.dtype == ds.y_val.dtype == y_dtype
    for a in _arrays(ds):
        assert a.flags.c_contiguous and np.isfinite(a).all()
    info = dataset_info(name)
    assert ds.task == info.task and ds.feature_names == ("x0", "x1", "x2", "x3")
    if ds.task == "classification":
        assert ds.n_classes == (info.fixed_n_classes or 3)
        assert ds.class_names == tuple(str(c) for c in range(ds.n_classes))
        assert ds.y_train.min() >= 0 and ds.y_train.max() < ds.n_classes
    else:
        assert ds.n_classes is None and ds.class_names is None


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classes_roughly_balanced(name):
    ds = make_dataset(name, 2000, 2, 4)
    counts = np.bincount(ds.y_train, minlength=ds.n_classes)
    np.testing.assert_allclose(counts / ds.n_train, 1 / ds.n_classes, atol=0.05)


@pytest.mark.parametrize("name", DATASETS)
def test_standardized_features_have_zero_mean_and_unit_std_except_linear(name):
    ds = make_dataset(name, 500, 3, condition_number=50.0 if name == "linear" else 1.0)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = ds.X_train.std(axis=0)
    if name == "linear":  # only centered: the eigenvalue spread must survive
        assert std.max() / std.min() > 2
    else:
        np.testing.assert_allclose(std, 1.0)


@pytest.mark.parametrize("name", DATASETS)
def test_val_fraction_zero_gives_empty_validation_set(name):
    ds = make_dataset(name, 50, 2, val_fraction=0.0)
    assert ds.n_train == 50 and ds.X_val.shape == (0, 2) and ds.y_val.shape == (0,)


@pytest.mark.parametrize("name", DATASETS)
def test_n_unique_tiles_k_unique_train_rows_and_draws_fresh_validation(name):
    ds = make_dataset(name, 500, 3, n_unique=7)
    assert len(np.unique(ds.X_train, axis=0)) == 7
    assert len(np.unique(ds.X_val, axis=0)) == ds.n_val
    train_rows = {r.tobytes() for r in ds.X_train}
    assert not any(r.tobytes() in train_rows for r in ds.X_val)


@pytest.mark.parametrize("name", DATASETS)
def test_label_noise_changes_about_p_of_train_labels_and_no_val_label(name):
    clean = make_dataset(name, 1000, 2, 3, label_noise=0.0)
    noisy = make_dataset(name, 1000, 2, 3, label_noise=0.3)
    np.testing.assert_array_equal(clean.X_train, noisy.X_train)
    np.testing.assert_array_equal(clean.y_val, noisy.y_val)
    changed = np.mean(clean.y_train != noisy.y_train)
    if noisy.task == "classification":  # always to a different class
        assert changed == pytest.approx(0.3)
    else:  # shuffled among themselves (a few may land on their own value)
        assert 0.28 < changed <= 0.3


@pytest.mark.parametrize("condition_number", [1.0, 30.0, 1000.0])
def test_linear_hessian_has_requested_condition_number(condition_number):
    ds = make_dataset("linear", 20_000, 6, condition_number=condition_number, seed=3)
    H = ds.X_train.T @ ds.X_train / ds.n_train  # (D, D) least-squares Hessian w.r.t. the weights
    assert condition_number / 2 <= np.linalg.cond(H) <= condition_number * 2


def test_linear_targets_follow_a_linear_model_with_the_requested_noise():
    ds = make_dataset("linear", 4000, 3, noise=0.5, standardize=False, seed=1)
    A = np.column_stack([ds.X_train, np.ones(ds.n_train)])
    residual = ds.y_train - A @ np.linalg.lstsq(A, ds.y_train, rcond=None)[0]
    assert residual.std() == pytest.approx(0.5, rel=0.05)  # signal variance is 1 by construction


def test_planar_generators_append_nuisance_columns():
    ds = make_dataset("moons", 400, 5, standardize=False)
    assert ds.n_features == 5
    np.testing.assert_allclose(ds.X_train[:, 2:].std(axis=0), 1.0, atol=0.15)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "foo"}, r"dataset must be one of linear, blobs, spiral, moons, circles, xor, iris, wine, "
                      r"breast_cancer, digits, diabetes; got 'foo'"),
    ({"n_samples": 1}, r"n_samples must be an integer >= 2; got 1"),
    ({"n_samples": 10.0}, r"n_samples .*got 10\.0"),
    ({"name": "moons", "n_features": 1}, r"n_features must be an integer >= 2 .*'moons'; got 1"),
    ({"name": "linear", "n_features": 0}, r"n_features must be an integer >= 1 .*got 0"),
    ({"name": "blobs", "n_classes": 1}, r"n_classes must be an integer >= 2 .*got 1"),
    ({"noise": -0.1}, r"noise must be a finite number >= 0; got -0\.1"),
    ({"condition_number": 0.5}, r"condition_number must be a finite number >= 1; got 0\.5"),
    ({"n_features": 1, "condition_number": 10.0}, r"condition_number > 1 needs n_features >= 2"),
    ({"label_noise": 1.0}, r"label_noise must be in \[0, 1\); got 1\.0"),
    ({"val_fraction": 1.5}, r"val_fraction must be in \[0, 1\); got 1\.5"),
    ({"n_samples": 2, "val_fraction": 0.9}, r"val_fraction=0\.9 leaves no training examples"),
    ({"n_unique": 0}, r"n_unique must be None or an integer in \[1, n_train=80\]; got 0"),
    ({"n_unique": 81}, r"n_unique .*got 81"),
    ({"seed": -1}, r"seed must be an integer >= 0; got -1"),
    ({"dtype": "float16"}, r"dtype must be 'float64' or 'float32'; got 'float16'"),
])
def test_bad_arguments_raise_value_error_naming_argument_and_value(kwargs, message):
    kwargs = {"name": "linear", "n_samples": 100, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_dataset(**kwargs)


def test_dataset_info():
    assert dataset_info("linear") == ("regression", None, None)
    assert dataset_info("blobs") == ("classification", None, None)
    assert dataset_info("spiral") == ("classification", None, 2)
    assert all(dataset_info(n).fixed_n_classes == 2 for n in ("moons", "circles", "xor"))
    with pytest.raises(ValueError, match="got 'nope'"):
        dataset_info("nope")


# ---- load_csv_dataset ---------------------------------------------------------------------------

def test_csv_numeric_target_is_regression():
    ds = load_csv_dataset(io.BytesIO(b"a,b,price\n1,10,1.5\n2,20,2.5\n3,25,3.75\n4,50,5\n5,55,6.25\n"),
                          "price", val_fraction=0.4)
    assert ds.task == "regression" and ds.n_classes is None and ds.class_names is None
    assert ds.feature_names == ("a", "b") and (ds.n_train, ds.n_val) == (3, 2)
    assert ds.y_train.dtype == np.float64 and ds.name == "csv"
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)


def test_csv_text_target_is_classification_with_sorted_class_names(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_bytes(b"\xef\xbb\xbfx1,species,x2\n1,setosa,2\n2,virginica,1\n3,setosa,0\n4,versicolor,5\n"
                     b"5,virginica,3\n6,versicolor,3\n")
    assert read_csv_columns(path) == ["x1", "species", "x2"]  # BOM stripped
    ds = load_csv_dataset(str(path), "species", val_fraction=0.0, standardize=False)
    assert ds.name == "iris.csv" and ds.task == "classification" and ds.n_classes == 3
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.y_train.dtype == np.int64
    labels = np.array(ds.class_names)[ds.y_train]
    species = ["setosa", "virginica", "setosa", "versicolor", "virginica", "versicolor"]  # by x1 - 1
    assert [species[int(x) - 1] for x in ds.X_train[:, 0]] == list(labels)


def test_csv_integer_target_with_few_values_is_classification_sorted_numerically():
    rows = "".join(f"{i},{[9, 10, 2][i % 3]}\n" for i in range(12))
    ds = load_csv_dataset(io.StringIO("f,y\n" + rows), "y")
    assert ds.task == "classification" and ds.class_names == ("2", "9", "10")
    assert load_csv_dataset(io.StringIO("f,y\n" + rows), "y", task="regression").task == "regression"
    many = "".join(f"{i},{i}\n" for i in range(30))  # 30 distinct integers: a count, not a label
    assert load_csv_dataset(io.StringIO("f,y\n" + many), "y").task == "regression"


def test_csv_semicolon_and_tab_files_are_split_correctly():
    for sep in (b";", b"\t"):
        rows = [[b"a", b"b", b"y"], [b"1", b"2", b"3.5"], [b"4", b"5", b"6.5"]]
        ds = load_csv_dataset(io.BytesIO(b"\n".join(sep.join(r) for r in rows)), "y", val_fraction=0.0,
                              standardize=False)
        assert ds.feature_names == ("a", "b") and ds.task == "regression"
        assert sorted(map(tuple, ds.X_train.tolist())) == [(1.0, 2.0), (4.0, 5.0)]


def test_csv_constant_feature_is_kept_as_zeros_without_nan():
    ds = load_csv_dataset(io.BytesIO(b"c,a,y\n0.1,1,1\n0.1,2,0\n0.1,3,1\n0.1,4,0\n0.1,5,1\n"), "y")
    assert ds.feature_names == ("c", "a")
    np.testing.assert_array_equal(ds.X_train[:, 0], 0.0)
    np.testing.assert_array_equal(ds.X_val[:, 0], 0.0)


def test_csv_buffer_can_be_read_twice_and_split_is_seeded():
    buf = io.BytesIO(b"a,y\n" + b"".join(b"%d,%d.5\n" % (i, i) for i in range(20)))
    assert read_csv_columns(buf) == ["a", "y"]
    a, b = load_csv_dataset(buf, "y", seed=1), load_csv_dataset(buf, "y", seed=1)
    c = load_csv_dataset(buf, "y", seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert load_csv_dataset(buf, "y", max_rows=10).n_train == 8


def test_csv_float32_and_forced_classification():
    ds = load_csv_dataset(io.BytesIO(b"a,y\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n5,0.5\n"), "y",
                          task="classification", dtype="float32")
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.class_names == ("0.5", "1.5")
    with pytest.raises(CSVError, match=r"column 'a' has values beyond the float32 range"):
        load_csv_dataset(io.BytesIO(b"a,y\n1e50,1\n2,2\n"), "y", dtype="float32", standardize=False)


BAD_FILES = [
    (b"", "y", r"the file is empty"),
    (b" \n\n", "y", r"the file is empty"),
    (b"a,y\n", "y", r"no data rows \(header only\)"),
    (b"a,y\n1,2\n", "y", r"only 1 data row; need at least 2"),
    (b"a,y\n\xff\xfe,1\n", "y", r"not UTF-8 text: byte 0xff on line 2"),
    (b"a,y\n1\x002,3\n", "y", r"NUL byte on line 2"),
    (b"a,b,y\n1;2;3\n4;5;6\n", "y", r"line 2: expected 3 fields like the header, got 1 \(it contains ';'"),
    (b"a,y\n1,2\n3,4,5\n6,7\n", "y", r"line 3: expected 2 fields like the header, got 3"),
    (b"a,b,y\n1,2,3\n4,5\n", "y", r"line 3: expected 3 fields like the header, got 2"),
    (b"a,y\n1,2\nabc,3\n", "y", r"non-numeric value 'abc' in column 'a', row 2 \(line 3\)"),
    (b"a,y\n1,2\n\n\nfoo,3\n", "y", r"'foo' in column 'a', row 2 \(line 5\)"),
    (b"a;y\n1,5;2\n2,5;3\n", "y", r"non-numeric value '1,5' in column 'a', row 1.*decimal comma"),
    (b"a,b,y\n1,2,3\n4,,5\n", "y", r"missing value '' in column 'b', row 2 \(line 3\)"),
    (b"a,y\n1,2\nNaN,3\n", "y", r"missing value 'NaN' in column 'a', row 2"),
    (b"a,y\n1,2\n-inf,3\n", "y", r"value '-inf' in column 'a', row 2 \(line 3\) is infinite or too large"),
    (b"a,y\n1,2\n1e309,3\n", "y", r"value '1e309' in column 'a', row 2 .*infinite or too large"),
    (b"a,y\n1,2\n2,1e309\n", "y", r"value '1e309' in column 'y', row 2"),
    (b"a,y\n1,2\n2,\n", "y", r"missing target value '' in column 'y', row 2"),
    (b"a,y\n1,2\n2,x\n3,4\n", "y", r"'x' in column 'y', row 2 \(line 3\): the target mixes numbers and text"),
    (b"a,y\n1,cat\n2,cat\n3,cat\n", "y", r"target column 'y' has a single class 'cat'"),
    (b"a,y\n1,p\n2,q\n3,r\n4,s\n5,t\n", "y", r"'y' has 5 classes but only 4 training rows"),
    (b"a,b\n1,2\n3,4\n", "y", r"target column 'y' not found; available columns: 'a', 'b'"),
    (b"a,b,a,y\n1,2,3,4\n5,6,7,8\n", "y", r"duplicate column name 'a' \(columns 1 and 3\)"),
    (b",a,y\n0,1,2\n1,3,4\n", "y", r"column 1 of the header has no name"),
    (b"y\n1\n2\n", "y", r"no feature columns: the file has only the target column 'y'"),
    (b"1,2\n3,4\n5,6\n", "2", r"the first line looks like data"),
    (b'a,y\n"1,2\n', "y", r"line 2: malformed CSV \(unexpected end of data\); is a '\"' quote left open"),
    (b'a,y\n"1"x,2\n', "y", r"line 2: malformed CSV"),
]


@pytest.mark.parametrize(("data", "target", "message"), BAD_FILES)
def test_bad_csv_raises_csv_error_saying_what_and_where(data, target, message):
    with pytest.raises(CSVError, match=message):
        load_csv_dataset(io.BytesIO(data), target)


def test_read_csv_columns_reports_header_problems_and_missing_file(tmp_path):
    with pytest.raises(CSVError, match=r"duplicate column name 'a'"):
        read_csv_columns(io.BytesIO(b"a,a\n1,2\n"))
    with pytest.raises(CSVError, match=r"cannot read CSV file .*nope\.csv"):
        read_csv_columns(tmp_path / "nope.csv")


def test_forced_regression_on_text_target_is_a_csv_error():
    with pytest.raises(CSVError, match=r"'cat' in column 'y', row 1 .*task='regression' needs a numeric"):
        load_csv_dataset(io.BytesIO(b"a,y\n1,cat\n2,dog\n"), "y", task="regression")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": "ranking"}, r"task must be one of auto, classification, regression; got 'ranking'"),
    ({"val_fraction": 1.0}, r"val_fraction must be in \[0, 1\); got 1\.0"),
    ({"max_rows": 1}, r"max_rows must be None or an integer >= 2; got 1"),
    ({"dtype": "int8"}, r"dtype must be 'float64' or 'float32'; got 'int8'"),
])
def test_csv_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_csv_dataset(io.BytesIO(b"a,y\n1,2\n3,4\n"), "y", **kwargs)


CSV_CHAR = st.sampled_from(list("ay,;\t\n\r\"'1-.e9 x") + ["\x00", "\ufeff", "é", "inf"])
CSV_SOUP = st.lists(CSV_CHAR, max_size=40)
CSV_CELL = st.sampled_from(["1", "-2.5", "7", "x", "b", "", " 4 ", "nan", "inf", "1e309", '"3"', "é", "1e99"])
CSV_ROW = st.one_of(*[st.lists(CSV_CELL, min_size=2, max_size=2)] * 3, st.lists(CSV_CELL, max_size=3))
CSV_ROWS = st.lists(CSV_ROW.map(",".join), max_size=8).map("\n".join)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.binary(max_size=64),
                 CSV_SOUP.map(lambda cs: ("a,y\n" + "".join(cs)).encode("utf-8")),
                 CSV_ROWS.map(lambda rows: ("a,y\n" + rows).encode("utf-8"))))
def test_arbitrary_bytes_either_load_or_raise_csv_error(data):
    try:
        ds = load_csv_dataset(io.BytesIO(data), "y")
    except CSVError:
        return
    assert np.isfinite(ds.X_train).all() and ds.n_train >= 1


# -- the fast (pandas C parser) reader gives the strict reader's arrays, or gives up ---------------------------

def _both_paths(monkeypatch, data, target, **kw):
    used = []
    monkeypatch.undo()  # the real fast reader, also on a second call
    fast = csv_data._fast_load  # the streaming reader load_csv_dataset tries first
    monkeypatch.setattr(csv_data, "_fast_load", lambda *a: used.append(fast(*a)) or used[-1])
    got = load_csv_dataset(io.BytesIO(data), target, **kw)
    monkeypatch.setattr(csv_data, "_fast_load", lambda *a: None)
    want = load_csv_dataset(io.BytesIO(data), target, **kw)
    return got, want, used[0] is not None


def _assert_same_dataset(a: Dataset, b: Dataset):
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.dtype == y.dtype and x.flags.c_contiguous == y.flags.c_contiguous
        np.testing.assert_array_equal(x, y)
    assert (a.name, a.task, a.n_classes, a.feature_names, a.class_names) == \
        (b.name, b.task, b.n_classes, b.feature_names, b.class_names)


GOOD_VALUES = ["0.1", "-2.5e-3", "1E5", "+3", "-0", " 7 ", "12345678901234567890", "3.141592653589793238462643",
               "1e-320", "1e100", "0.30000000000000004", "42"]


@pytest.mark.parametrize("target_kind", ["text", "integer", "real", "odd numbers"])
@pytest.mark.parametrize("sep, newline, bom", [(",", "\n", False), (";", "\r\n", True), ("\t", "\n", False)])
def test_good_csv_gives_identical_arrays_via_fast_and_strict_readers(monkeypatch, target_kind, sep, newline, bom):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        cells = [GOOD_VALUES[(i + j) % len(GOOD_VALUES)] if j == 0 else repr(float(rng.standard_normal()))
                 for j in range(3)]
        label = {"text": ["cat", "dog", "émeu"][i % 3], "integer": str(i % 4), "real": repr(i / 7),
                 "odd numbers": TARGET_VALUES[i % len(TARGET_VALUES)]}[target_kind]
        rows.append(sep.join([*cells, label]))
    text = sep.join([" a", "b ", "c", "target"]) + newline + newline.join(rows[:30]) + newline + newline + \
        newline.join(rows[30:]) + newline
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    for kw in ({}, {"dtype": "float32", "max_rows": 45, "seed": 3}, {"standardize": False, "val_fraction": 0.0}):
        got, want, fast_used = _both_paths(monkeypatch, data, "target", **kw)
        assert fast_used, kw
        _assert_same_dataset(got, want)
        assert got.n_train + got.n_val == kw.get("max_rows", 60)


# a numeric target is parsed as float64 by pandas, like the features: the same odd spellings, but integers
# beyond 2**53 (the strict reader tells them apart from their text) go to the strict reader
TARGET_VALUES = [v for v in GOOD_VALUES if abs(float(v)) < 2.0**53]


@pytest.mark.parametrize("late", ["cat", "NA", "nan", "inf", " ", "1,5"])
def test_a_numeric_looking_target_with_text_after_the_first_rows_reads_as_the_strict_reader_reads_it(
        monkeypatch, late):
    rows = [f"{i},{i % 3}" for i in range(20000)]  # 150 KB: the text comes after the 64 KB the scan looks at
    rows[19000] = f"19000,{late}"
    data = ("a,y\n" + "\n".join(rows) + "\n").encode()
    scan = csv_fast.scan_file(data, "y")
    assert scan.numeric_target and scan.n_rows == 20000  # the first rows' targets are numbers
    for task in ("auto", "classification"):
        outcomes, used = [], []
        fast = csv_data._fast_load
        for reader in (lambda *a, u=used, f=fast: u.append(f(*a)) or u[-1], lambda *a: None):  # fast, strict
            monkeypatch.setattr(csv_data, "_fast_load", reader)
            try:
                outcomes.append(load_csv_dataset(io.BytesIO(data), "y", task=task))
            except CSVError as e:
                outcomes.append(str(e))
        monkeypatch.undo()
        assert used == [None]  # the fast reader met the text and gave up: the strict reader decided
        if isinstance(outcomes[1], str):
            assert outcomes[0] == outcomes[1]
        else:
            _assert_same_dataset(*outcomes)
            assert late == "cat" and task == "classification" and "cat" in outcomes[1].class_names


@pytest.mark.parametrize("max_rows", [None, 3, 5])
@pytest.mark.parametrize("blank", [False, True])
def test_a_row_with_a_trailing_delimiter_is_the_strict_readers_to_explain(monkeypatch, max_rows, blank):
    # pandas 3.0 and older read "3,4," under "a,y" as the row (3, 4): the fast reader counts the delimiters
    rows = ["1,2", "2,3", "3,4", "4,5,", "5,6", "6,7"]  # the 4th row: one field too many (an empty one)
    data = ("a,y\n" + "\n\n".join(rows) if blank else "a,y\n" + "\n".join(rows)).encode() + b"\n"
    outcomes = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(csv_data, "_fast_load", lambda *a: None)
        try:
            outcomes.append(load_csv_dataset(io.BytesIO(data), "y", max_rows=max_rows, task="regression"))
        except CSVError as e:
            outcomes.append(str(e))
    if max_rows == 3:  # the rows read are whole: both readers take them
        _assert_same_dataset(*outcomes)
        assert csv_fast.fast_parse(data, "y", "auto", max_rows) is not None
    else:
        assert outcomes[0] == outcomes[1] and "expected 2 fields like the header, got 3" in outcomes[1]
        assert csv_fast.fast_parse(data, "y", "auto", max_rows) is None


@pytest.mark.parametrize("text", ['a,y\n1,2\n"3",4\n', "a,y\n1,2\n3,4,5\n", "a,y\n1,2\n3\n", "a,y\n1,2\n3,NA\n",
                                  "a,y\n1,2\n1e309,4\n", "a,y\nx,2\n3,4\n", "a,a\n1,2\n3,4\n"])
def test_fast_reader_gives_up_where_the_strict_one_has_something_to_say(text):
    assert csv_fast.fast_parse(text.encode(), "y", "auto", None) is None


@settings(max_examples=80, deadline=None)
@given(CSV_ROWS.map(lambda rows: ("a,y\n" + rows).encode("utf-8")))
def test_fast_reader_agrees_with_the_strict_one_or_gives_up(data):
    fast = csv_fast.fast_parse(data, "y", "auto", None)
    try:
        strict = csv_text.strict_parse(csv_text.decode(data), "y", "auto", None)
    except CSVError:
        assert fast is None  # the strict reader's message wins
        return
    if fast is not None:
        assert fast[0] == strict[0] and fast[3:] == strict[3:]
        np.testing.assert_array_equal(fast[1], strict[1])
        np.testing.assert_array_equal(fast[2], strict[2])
        assert fast[2].dtype == strict[2].dtype


# -- the strict reader converts a block of rows at a time: same arrays and messages, bounded memory -------------

def _quoted_csv(n, d, bad_row=None):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    rows = [",".join(f"{v:.6f}" for v in X[i]) + f",{i % 3}" for i in range(n)]
    rows[7] = '"' + rows[7].replace(",", '",', 1)  # one quoted cell: a file for the strict reader
    if bad_row is not None:
        rows[bad_row] = "abc" + rows[bad_row][rows[bad_row].index(","):]
    return ",".join(f"f{j}" for j in range(d)) + ",y\n" + "\n".join(rows) + "\n"


def test_strict_reader_in_blocks_gives_the_whole_file_result():

    text = _quoted_csv(1000, 4)
    whole = csv_text.strict_parse(text, "y", "auto", None, block_rows=10**9)
    for block_rows in (1, 7, 256):
        part = csv_text.strict_parse(text, "y", "auto", None, block_rows=block_rows)
        assert part[0] == whole[0] and part[3:] == whole[3:]
        np.testing.assert_array_equal(part[1], whole[1])
        np.testing.assert_array_equal(part[2], whole[2])
    bad = _quoted_csv(1000, 4, bad_row=700)
    for block_rows in (10**9, 256):  # a block's rows are numbered from the file's start
        with pytest.raises(CSVError, match=r"^non-numeric value 'abc' in column 'f0', row 701 \(line 702\)"):
            csv_text.strict_parse(bad, "y", "auto", None, block_rows=block_rows)


def test_strict_reader_memory_is_bounded_by_the_data_not_its_tokens():
    # a 46 MB upload with one quoted cell peaked the server at 763 MB over the tokens of every cell (and an
    # io.StringIO copy of the text at 4 bytes a character); converted in blocks it holds about X and the text
    import tracemalloc


    text = _quoted_csv(20_000, 20)
    peaks = {}
    for block_rows in (csv_text.STRICT_BLOCK_ROWS, 10**9):
        tracemalloc.start()
        X = csv_text.strict_parse(text, "y", "auto", None, block_rows=block_rows)[1]
        peaks[block_rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[csv_text.STRICT_BLOCK_ROWS] < 4 * X.nbytes < peaks[10**9] / 2, peaks  # measured: 10 MB, 13, 40


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_csv_regression_keeps_its_target_scale_for_rmse_in_the_targets_units(dtype):
    """The dashboard's RMSE column is sqrt(2 L) * target_scale: for a CSV, the raw training targets' std."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    y = 50.0 * x + 3.0 + rng.normal(size=200)
    text = "x,price\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(x, y, strict=True))
    ds = load_csv_dataset(io.BytesIO(text.encode()), "price", task="regression", seed=2, dtype=dtype)
    train = np.random.default_rng(2).permutation(200)[round(200 * 0.2):]
    assert ds.target_scale == pytest.approx(y[train].std(), rel=1e-12)
    raw = load_csv_dataset(io.BytesIO(text.encode()), "price", task="regression", seed=2, standardize=False)
    assert raw.target_scale == 1.0
