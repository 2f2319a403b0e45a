"""Load a user's CSV into a `Dataset`, with errors that say what is wrong and where.

Two readers give the same arrays. The fast one (`csv_fast.py`) streams the file: one pass over its bytes checks
them and counts the rows, then pandas' C parser reads blocks of rows (features as float64, the target as text).
It gives up, without a message, on anything it does not take exactly as the strict reader (`csv_text.py`) would;
the strict one then reads the file again from its bytes and explains every problem (it holds every field as a
Python string, ~16x the file). Either way, the rows go block by block, in the same blocks, to their place in the
seeded train/validation split (`_Split`), standardised in place once the training statistics are known: in
float64 staging (`dataset.RawRows`), or for standardised float32 in float32 throughout (`dataset.ShiftedRows`),
so memory holds about the data, never the file's text.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import csv_fast
from .csv_fast import GiveUp, as_bytes, block_target, fields_match, read_blocks
from .csv_text import (
    MAX_AUTO_CLASSES,
    MAX_COLUMNS,
    CSVError,
    decode,
    read_raw,
    strict_parse,
    tokenize,
)
from .dataset import (
    Dataset,
    RawRows,
    ShiftedRows,
    SpreadTooWide,
    block_rows,
    check_dtype,
    column_stats,
    finish_targets,
    is_int,
    is_real,
    target_scale,
)

__all__ = ["MAX_AUTO_CLASSES", "MAX_COLUMNS", "CSVError", "load_csv_dataset", "read_csv_columns"]

_TASKS = ("auto", "classification", "regression")


def read_csv_columns(path_or_buffer) -> list[str]:
    """Column names from the header (for a target picker). Header problems raise CSVError here;
    problems in data rows surface in `load_csv_dataset`."""
    header, _, _ = tokenize(decode(read_raw(path_or_buffer)), max_rows=0)
    return header


def load_csv_dataset(path_or_buffer, target, *, task="auto", val_fraction=0.2, standardize=True, seed=0,
                     dtype="float64", max_rows=None) -> Dataset:
    """Read a CSV (path, or a binary/text buffer such as Streamlit's upload) into a `Dataset`.

    Every column but `target` is a numeric feature: X (n_rows, n_columns-1). task="auto": a text target,
    or an integer one with <= 20 distinct values, is classification (labels sorted -> 0..C-1, kept in
    `class_names`); any other numeric target is regression. Rows are split by a seeded permutation and
    standardised as in `make_dataset` (a constant feature column is kept and becomes all zeros).
    Reads at most `max_rows` data rows. Raises CSVError for any problem with the file's contents.
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {', '.join(_TASKS)}; got {task!r}")
    if not is_real(val_fraction) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if max_rows is not None and (not is_int(max_rows) or max_rows < 2):
        raise ValueError(f"max_rows must be None or an integer >= 2; got {max_rows!r}")
    dtype = check_dtype(dtype)

    source = path_or_buffer
    if not isinstance(source, str | os.PathLike):
        source = getattr(source, "name", None)  # Streamlit's UploadedFile has the file name; BytesIO none
    name = os.path.basename(os.fspath(source)) if isinstance(source, str | os.PathLike) and source else "csv"
    split = (val_fraction, seed, standardize, dtype, name)
    is_path = isinstance(path_or_buffer, str | os.PathLike)
    data = None if is_path else read_raw(path_or_buffer)  # a buffer is read once (it may not seek)
    ds = _fast_load(os.fspath(path_or_buffer) if is_path else as_bytes(data), target, task, max_rows, split)
    if ds is not None:
        return ds
    if data is None:
        data = read_raw(path_or_buffer)
    features, X, y, task, class_names = strict_parse(decode(data), target, task, max_rows)
    del data
    n = len(y)
    n_val = round(n * val_fraction)
    _check_split(n, n_val, class_names, target, val_fraction)
    chunk = csv_fast.parse_rows(len(features) + 1)
    for shift in (True, False):
        rows = _Split(n, n_val, seed, len(features), standardize, dtype, shift)
        try:
            for i in range(0, n, chunk):  # the fast reader's blocks: the same arrays, bit for bit
                rows.write(X[i:i + chunk])
            break
        except SpreadTooWide:
            continue  # float64 staging (the fast reader gave up on this file for the same reason)
    del X
    return _finish(rows, rows.finish(), y, task, class_names, features, target, split)


class _Split:
    """The file's rows, block by block in file order, into their places in the seeded train/validation split.

    float64, or float32 unstandardised: `RawRows` (float64 until the train statistics are known). float32
    standardised: one `ShiftedRows` (train rows first, then validation rows), never the data in float64, unless
    shift=False (the strict reader, for a file whose spread float32 cannot hold)."""

    def __init__(self, n, n_val, seed, n_features, standardize, dtype, shift=True):
        self.perm = np.random.default_rng(seed).permutation(n)
        self.where = np.empty(n, np.int64)  # where[r]: file row r's place in perm (train rows: perm[n_val:])
        self.where[self.perm] = np.arange(n)
        self.n, self.n_val, self.at = n, n_val, 0
        self.standardize, self.dtype = standardize, dtype
        if shift and dtype == np.float32 and standardize:
            self.shifted = ShiftedRows(n - n_val, n_val, n_features)
        else:
            self.shifted = None
            self.train, self.val = RawRows(n - n_val, n_features), RawRows(n_val, n_features)

    def write(self, X):
        """The next rows of the file (float64 block)."""
        w = self.where[self.at:self.at + len(X)]
        self.at += len(X)
        train = w >= self.n_val
        if self.shifted is not None:  # train rows at 0..n_train-1, validation rows after them
            self.shifted.write(np.where(train, w - self.n_val, w + (self.n - self.n_val)), X)
        else:
            self.train.raw[w[train] - self.n_val] = X[train]
            self.val.raw[w[~train]] = X[~train]

    def finish(self):
        """(X_train, X_val), standardised with the training rows' statistics, in the run's dtype."""
        if self.shifted is not None:
            return self.shifted.finish()
        stats = column_stats(self.train.raw, self.standardize)
        return self.train.finish(stats, self.dtype), self.val.finish(stats, self.dtype)  # float32 frees half


def _finish(rows, X, y, task, class_names, features, target, split):
    """The Dataset: X = `rows.finish()` (a `_Split` every row was written to), y split the same way."""
    _, _, standardize, dtype, name = split
    n_val, perm = rows.n_val, rows.perm
    X_train, X_val = X
    y_raw = y[perm[n_val:]]
    y_train, y_val = finish_targets(y_raw, y[perm[:n_val]], task, standardize, dtype)
    n_classes = None if class_names is None else len(class_names)
    ds = Dataset(name, X_train, y_train, X_val, y_val, task, n_classes, tuple(features),
                 None if class_names is None else tuple(class_names), target_scale(y_raw, task, standardize))
    if dtype == np.float32 and not standardize:
        _check_range(ds, features, target, dtype)
    return ds


def _check_split(n, n_val, class_names, target, val_fraction):
    if n - n_val < 1:
        raise CSVError(f"val_fraction={val_fraction!r} leaves no training rows out of {n}")
    n_classes = None if class_names is None else len(class_names)
    if n_classes is not None and n_classes > n - n_val:
        raise CSVError(f"target column {target!r} has {n_classes} classes but only {n - n_val} training "
                       "rows; a classification target needs fewer classes than training rows "
                       "(for a continuous target pass task='regression')")


def _check_range(ds, features, target, dtype):
    """CSVError naming the first column with a value the dtype cannot hold (only float32, unstandardised, can
    overflow: values are at most 1e100 and standardised ones at most sqrt(n))."""
    ok = np.ones(len(features) + 1, bool)
    for X in (ds.X_train, ds.X_val):
        rows = block_rows(X.shape[1])
        for i in range(0, len(X), rows):
            ok[:-1] &= np.isfinite(X[i:i + rows]).all(axis=0)
    ok[-1] = np.isfinite(ds.y_train).all() and np.isfinite(ds.y_val).all()
    if not ok.all():
        column = (features + [target])[int(np.argmin(ok))]
        raise CSVError(f"column {column!r} has values beyond the {dtype} range; use dtype='float64' "
                       "or standardize=True")


def _fast_load(source, target, task, max_rows, split) -> Dataset | None:
    """The fast reader: the file's rows straight into the seeded split (`_Split`); None where the strict reader
    must decide. Rows are first counted without looking for blank lines before them (`scan_file`); a file
    whose rows disagree with that count is counted again, exactly, and read again (`csv_fast.scans`)."""
    if source is None:
        return None
    for scan, n in csv_fast.scans(source, target, max_rows):
        try:
            return _fast_read(source, scan, n, target, task, max_rows, split)
        except _Recount:
            continue
    return None


class _Recount(Exception):
    """The parser found fewer rows, or the rows fewer fields, than the scan counted: blank lines before a row
    (the exact count then agrees), or a row with a trailing empty field (the strict reader explains)."""


def _fast_read(source, scan, n, target, task, max_rows, split):
    val_fraction, seed, standardize, dtype, _ = split
    features = [c for c in scan.header if c != target]
    n_val = round(n * val_fraction)
    rows = _Split(n, n_val, seed, len(features), standardize, dtype)
    parts = []
    try:
        for X, values in one_ahead(read_blocks(source, scan, target, max_rows)):
            if rows.at + len(X) > n:
                raise GiveUp
            try:
                rows.write(X)
            except SpreadTooWide as e:
                raise GiveUp from e
            parts.append(values)
            del X, values
        if rows.at < n or not fields_match(scan, n):
            raise _Recount
        X = rows.finish()  # before the target: RawRows' float32 cast frees half its memory
        y, task, class_names = block_target(parts, target, task, n)
    except GiveUp:
        return None
    del parts
    _check_split(n, n_val, class_names, target, val_fraction)
    return _finish(rows, X, y, task, class_names, features, target, split)


def one_ahead(blocks):
    """The items of `blocks`, the next one made by a second thread while the caller works on this one (pandas'
    parser releases the GIL while it tokenises and converts; so do numpy's large operations). The generator is
    resumed by one thread at a time; an exception reaches the caller at the item it would have been."""
    with ThreadPoolExecutor(1, thread_name_prefix="csv-blocks") as pool:
        try:
            nxt = pool.submit(next, blocks, None)
            while (item := nxt.result()) is not None:
                nxt = pool.submit(next, blocks, None)
                yield item
        finally:
            nxt.cancel() or nxt.exception()  # a block being read is finished, then the generator closed
            blocks.close()
