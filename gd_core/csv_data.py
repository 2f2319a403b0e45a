"""Load a user's CSV into a `Dataset`, with errors that say what is wrong and where.

Two readers give the same arrays. The fast one: pandas' C parser reads the features straight into float64
columns and the target as text (~3x the file in memory; the strict reader holds every field as a Python string,
~16x). It gives up, without a message, on anything it does not take exactly as the strict reader would
(a quote in the data rows, a ragged row, a missing, non-finite or too large value, a bad target, ...).
The strict one, which then reads the file again from its bytes: the stdlib `csv` reader tokenizes (one parser,
exact line numbers for ragged rows), pandas converts columns to numbers, and every problem gets its located
message. Rows are numbered 1-based over data rows (header excluded); lines are file lines.
"""

from __future__ import annotations

import csv
import io
import os
import warnings

import numpy as np
import pandas as pd

from gd_core.config import MAX_FEATURES
from gd_core.datasets import Dataset, _check_dtype, _is_int, _is_real, finish_dataset

_TASKS = ("auto", "classification", "regression")
_MISSING = {"", "nan", "na", "n/a", "null", "none"}
_MAX_ABS = 1e100  # larger magnitudes would overflow when squared in the losses and statistics
_MAX_AUTO_CLASSES = 20
_DELIMITERS = ",;\t|"
_HEADER_PREFIX = 1 << 16  # bytes in which the fast reader looks for the header line
MAX_COLUMNS = MAX_FEATURES + 1  # feature columns and the target


class CSVError(ValueError):
    """The CSV file cannot become a Dataset; the message names the column/row/line and the rule."""


def read_csv_columns(path_or_buffer) -> list[str]:
    """Column names from the header (for a target picker). Header problems raise CSVError here;
    problems in data rows surface in `load_csv_dataset`."""
    header, _, _ = _tokenize(_decode(_read_raw(path_or_buffer)), max_rows=0)
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
    if not _is_real(val_fraction) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if max_rows is not None and (not _is_int(max_rows) or max_rows < 2):
        raise ValueError(f"max_rows must be None or an integer >= 2; got {max_rows!r}")
    dtype = _check_dtype(dtype)

    data = _read_raw(path_or_buffer)
    parsed = _fast_parse(data, target, task, max_rows)
    if parsed is None:
        parsed = _strict_parse(_decode(data), target, task, max_rows)
    features, X, y, task, class_names = parsed
    del data, parsed

    n = len(y)
    n_val = round(n * val_fraction)
    if n - n_val < 1:
        raise CSVError(f"val_fraction={val_fraction!r} leaves no training rows out of {n}")
    n_classes = None if class_names is None else len(class_names)
    if n_classes is not None and n_classes > n - n_val:
        raise CSVError(f"target column {target!r} has {n_classes} classes but only {n - n_val} training "
                       "rows; a classification target needs fewer classes than training rows "
                       "(for a continuous target pass task='regression')")
    perm = np.random.default_rng(seed).permutation(n)
    tr, va = perm[n_val:], perm[:n_val]
    source = path_or_buffer
    if not isinstance(source, str | os.PathLike):
        source = getattr(source, "name", None)  # Streamlit's UploadedFile has the file name; BytesIO none
    name = os.path.basename(os.fspath(source)) if isinstance(source, str | os.PathLike) and source else "csv"
    ds = finish_dataset(name, X[tr], y[tr], X[va], y[va], task, n_classes, features, class_names,
                        standardize=standardize, dtype=dtype)
    ok = np.isfinite(np.vstack([ds.X_train, ds.X_val])).all(axis=0)  # (D,)
    ok = np.append(ok, np.isfinite(np.concatenate([ds.y_train, ds.y_val])).all())
    if not ok.all():
        column = (features + [target])[int(np.argmin(ok))]
        raise CSVError(f"column {column!r} has values beyond the {dtype} range; use dtype='float64' "
                       "or standardize=True")
    return ds


def _strict_parse(text, target, task, max_rows):
    """The strict reader: -> (feature names, X (n, D) float64, y (n,), task, class_names or None)."""
    header, rows, lines = _tokenize(text, max_rows)
    del text
    if target not in header:
        raise CSVError(f"target column {target!r} not found; available columns: "
                       f"{', '.join(repr(c) for c in header)}")
    features = [c for c in header if c != target]
    if not features:
        raise CSVError(f"no feature columns: the file has only the target column {target!r}; "
                       "add at least one numeric feature column")
    if len(rows) < 2:
        what = "no data rows (header only)" if not rows else "only 1 data row"
        raise CSVError(f"the file has {what}; need at least 2 data rows")
    frame = pd.DataFrame(rows, columns=header, dtype=object).apply(lambda col: col.str.strip())
    X = np.column_stack([_numeric_feature(frame[c], c, lines) for c in features])  # (n, D)
    y, task, class_names = _parse_target(frame[target], target, task, lines)
    return features, X, y, task, class_names


def _fast_parse(data, target, task, max_rows):
    """pandas' C parser: the strict reader's result for a clean file, or None for anything else."""
    is_bytes = isinstance(data, bytes)
    if not isinstance(data, bytes | str) or (b"\x00" if is_bytes else "\x00") in data:
        return None
    if is_bytes and not data.isascii():
        try:
            data.decode("utf-8")  # the strict reader's rule; only a non-ASCII file pays for the check
        except UnicodeDecodeError:
            return None
    head = data[:_HEADER_PREFIX]
    end = head.rfind(b"\n" if is_bytes else "\n") + 1  # the prefix ends with a whole line
    try:
        text = head[:end].decode("utf-8-sig") if is_bytes else head[:end].lstrip("\ufeff")
        header, _, _ = _tokenize(text, max_rows=0)
        first = next(ln for ln in io.StringIO(text, newline="") if ln.strip())
    except (CSVError, UnicodeDecodeError, StopIteration):
        return None
    at = data.find(first.encode() if is_bytes else first)
    if at < 0 or target not in header or len(header) < 2:
        return None
    if data.find(b'"' if is_bytes else '"', at + len(first)) != -1:
        return None  # a quote in the data rows: the C parser is more lenient than csv's strict mode
    features = [c for c in header if c != target]
    dtypes = {c: np.float64 for c in features} | {target: object}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. "Length of header or names does not match length of data"
            frame = pd.read_csv(io.BytesIO(data) if is_bytes else io.StringIO(data), sep=_delimiter(first),
                                header=0, names=header, index_col=False, dtype=dtypes, na_filter=False,
                                engine="c", encoding="utf-8-sig", nrows=max_rows, skip_blank_lines=True)
    except (ValueError, TypeError, Warning, pd.errors.ParserError):
        return None
    if len(frame) < 2:
        return None
    X = np.empty((len(frame), len(features)))  # (n, D), filled column by column: no third copy
    for j, c in enumerate(features):
        X[:, j] = frame[c].to_numpy()
    values = frame[target]
    del frame
    lo, hi = X.min(), X.max()  # NaN and inf propagate; no (n, D) temporary
    if not (np.isfinite(lo) and np.isfinite(hi) and max(-lo, hi) <= _MAX_ABS):
        return None
    try:
        y, task, class_names = _parse_target(values.str.strip(), target, task, range(1, len(values) + 1))
    except CSVError:
        return None
    return features, X, y, task, class_names


def _read_raw(src) -> bytes | str:
    """The whole file as read (bytes, or str from a text buffer)."""
    try:
        if isinstance(src, str | os.PathLike):
            with open(src, "rb") as f:
                data = f.read()
        else:
            if hasattr(src, "seek"):
                src.seek(0)  # a Streamlit upload may have been read already (e.g. by read_csv_columns)
            data = src.read()
    except OSError as e:
        raise CSVError(f"cannot read CSV file {str(src)!r}: {e.strerror or e}") from e
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    return data


def _decode(data) -> str:
    """Whole file as str; bytes must be UTF-8 (a BOM is allowed)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[:e.start].count(b"\n") + 1
            raise CSVError(f"the file is not UTF-8 text: byte 0x{data[e.start]:02x} on line {line} cannot be "
                           "decoded; save the file as 'CSV UTF-8'") from None
    if not isinstance(data, str):
        raise CSVError("expected a path or a file-like object giving bytes or str; "
                       f"got {type(data).__name__}")
    if "\x00" in data:
        line = data[:data.index("\x00")].count("\n") + 1
        raise CSVError(f"the file contains a NUL byte on line {line}; it is binary, not a CSV text file")
    if not data.strip():
        raise CSVError("the file is empty; expected a header line and data rows")
    return data


def _tokenize(text, max_rows):
    """-> (header names, data rows as lists of str, 1-based file line of each row)."""
    first = next(ln for ln in io.StringIO(text, newline="") if ln.strip())
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header, rows, lines = None, [], []
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if header is None:
                header = _check_header([f.strip() for f in record])
                if max_rows == 0:
                    break
            elif len(record) != len(header):
                hint = next((f" (it contains {d!r} but the header is split on {delimiter!r})"
                             for d in _DELIMITERS if d != delimiter and d in delimiter.join(record)), "")
                raise CSVError(f"line {reader.line_num}: expected {len(header)} fields like the header, "
                               f"got {len(record)}{hint}")
            else:
                rows.append(record)
                lines.append(reader.line_num)
                if max_rows is not None and len(rows) >= max_rows:
                    break
    except csv.Error as e:
        hint = "; is a '\"' quote left open?" if "end of data" in str(e) else ""
        raise CSVError(f"line {reader.line_num}: malformed CSV ({e}){hint}") from None
    if header is None:
        raise CSVError("the file has no header line; expected column names on the first line")
    return header, rows, lines


def _delimiter(first_line: str) -> str:
    # a ';' / tab / '|' file read with ',' is one garbage column: pick the delimiter from the header
    return "," if "," in first_line else next((d for d in _DELIMITERS if d in first_line), ",")


def _check_header(names):
    if len(names) > MAX_COLUMNS:
        raise CSVError(f"the header has {len(names):,} columns; at most {MAX_COLUMNS:,} are allowed "
                       f"({MAX_FEATURES:,} feature columns and the target)")
    first = {}  # name -> its first column: one pass, not a search of the names before each one
    for i, name in enumerate(names):
        if not name:
            raise CSVError(f"column {i + 1} of the header has no name; every column needs a unique name "
                           "(a leading unnamed column is often a saved row index: delete it)")
        if name in first:
            raise CSVError(f"duplicate column name {name!r} (columns {first[name] + 1} and {i + 1}); "
                           "column names must be unique")
        first[name] = i
    if len(names) > 1 and pd.to_numeric(pd.Series(names), errors="coerce").notna().all():
        raise CSVError(f"the first line looks like data, not a header: {', '.join(names)}; "
                       "add a header line with the column names")
    return names


def _where(column, i, lines):
    return f"column {column!r}, row {i + 1} (line {lines[i]})"


_OVERFLOW = r"\s*[+-]?(?:\d+\.?\d*|\.\d+)[eE]\+?\d{3,}\s*"  # a number whose exponent is too large for float64


def _to_float(values: pd.Series, column, lines):
    """(n,) float64 with NaN for text/missing; raises on inf or |value| > 1e100."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    text = np.isnan(num)
    if text.any():  # pandas < 3 coerces a literal past float64's range (1e309) to NaN, pandas 3 to inf
        num = num.copy()  # to_numpy may hand back a read-only view
        num[np.flatnonzero(text)[values[text].str.fullmatch(_OVERFLOW).to_numpy(dtype=bool)]] = np.inf
    too_big = np.isinf(num) | (np.abs(np.nan_to_num(num)) > _MAX_ABS)
    if too_big.any():
        i = int(np.argmax(too_big))
        raise CSVError(f"value {values.iloc[i]!r} in {_where(column, i, lines)} is infinite or too large; "
                       f"values must be finite numbers with magnitude <= {_MAX_ABS:g}")
    return num


def _numeric_feature(values, column, lines):
    num = _to_float(values, column, lines)
    if np.isnan(num).any():
        i = int(np.argmax(np.isnan(num)))
        raw = values.iloc[i]
        if raw.lower() in _MISSING:
            raise CSVError(f"missing value {raw!r} in {_where(column, i, lines)}; every feature value must "
                           "be a number (drop or fill the row)")
        hint = " (decimal comma? use '.' for decimals)" if "," in raw else ""
        raise CSVError(f"non-numeric value {raw!r} in {_where(column, i, lines)}; feature columns must "
                       f"be numeric{hint}")
    return num


def _exact_integers(values, num):
    """The target's integers exactly (an object array of Python ints) when some are beyond 2**53, where float64
    merges neighbours (10**18 and 10**18 + 1); None when float64 holds them all exactly."""
    if not (np.abs(num) >= 2.0**53).any():
        return None
    text = values.str.replace("_", "x", regex=False)  # int() would take '1_000'; the float reader does not
    if not text.str.fullmatch(r"[+-]?[0-9]+").all():
        return None  # e.g. 1e18: a float literal, read as the float it is
    return np.array([int(v) for v in text], dtype=object)


def _parse_target(values, column, task, lines):
    """-> (y (n,), task, class_names or None); y is float64 for regression, int64 indices otherwise."""
    missing = values.str.lower().isin(_MISSING).to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise CSVError(f"missing target value {values.iloc[i]!r} in {_where(column, i, lines)}; "
                       "every row needs a target")
    num = _to_float(values, column, lines)
    text = np.isnan(num)
    if text.any() and task != "classification" and (task == "regression" or not text.all()):
        i = int(np.argmax(text))
        rule = ("task='regression' needs a numeric target" if task == "regression" else
                "the target mixes numbers and text; fix the value, or pass task='classification'")
        raise CSVError(f"non-numeric value {values.iloc[i]!r} in {_where(column, i, lines)}: {rule}")
    if text.any():
        labels, y = np.unique(values.to_numpy(dtype=object), return_inverse=True)
        names = tuple(str(v) for v in labels)
    else:
        integral = bool(np.all(num == np.round(num)))
        exact = _exact_integers(values, num) if integral else None  # integers float64 cannot tell apart
        keys = num if exact is None else exact
        few = integral and len(np.unique(keys)) <= _MAX_AUTO_CLASSES
        if task == "regression" or (task == "auto" and not few):
            return num, "regression", None
        labels, y = np.unique(keys, return_inverse=True)  # sorted numerically: "10" after "9"
        names = tuple(str(int(v)) if integral else repr(float(v)) for v in labels)
    if len(names) < 2:
        raise CSVError(f"target column {column!r} has a single class {names[0]!r}; classification needs "
                       "at least 2 classes")
    return y.astype(np.int64).reshape(-1), "classification", names
