"""Load a user's CSV into a `Dataset`, with errors that say what is wrong and where.

Two readers give the same arrays. The fast one streams the file: one pass over its bytes checks them and counts
the rows, then pandas' C parser reads blocks of rows (features as float64, the target as text), and each block's
rows go straight to their place in the seeded train/validation split, standardised in place afterwards
(`dataset.RawRows`): about the data's float64 size in memory, never the file's text. It gives up, without a
message, on anything it does not take exactly as the strict reader would (a quote in the data rows, a ragged
row, a missing, non-finite or too large value, a bad target, ...; the strict reader holds every field as a
Python string, ~16x the file).
The strict one, which then reads the file again from its bytes: the stdlib `csv` reader tokenizes (one parser,
exact line numbers for ragged rows), pandas converts columns to numbers, and every problem gets its located
message. Rows are numbered 1-based over data rows (header excluded); lines are file lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from .dataset import (
    BLOCK_VALUES,
    MAX_FEATURES,
    Dataset,
    RawRows,
    block_rows,
    check_dtype,
    column_stats,
    finish_dataset,
    finish_targets,
    is_int,
    is_real,
)

_TASKS = ("auto", "classification", "regression")
_MISSING = {"", "nan", "na", "n/a", "null", "none"}
_MAX_ABS = 1e100  # larger magnitudes would overflow when squared in the losses and statistics
MAX_AUTO_CLASSES = 20
_DELIMITERS = ",;\t|"
_HEADER_PREFIX = 1 << 16  # bytes in which the fast reader looks for the header line
MAX_COLUMNS = MAX_FEATURES + 1  # feature columns and the target
_SCAN_BYTES = 1 << 24  # the fast reader checks the file 16 MB at a time
_PARSE_VALUES = 4 * BLOCK_VALUES  # numbers in one block of rows pandas parses (4 MB of float64)


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
    data = None if is_path else _read_raw(path_or_buffer)  # a buffer is read once (it may not seek)
    ds = _fast_load(os.fspath(path_or_buffer) if is_path else _as_bytes(data), target, task, max_rows, split)
    if ds is not None:
        return ds
    if data is None:
        data = _read_raw(path_or_buffer)
    features, X, y, task, class_names = _strict_parse(_decode(data), target, task, max_rows)
    del data
    n = len(y)
    n_val = round(n * val_fraction)
    _check_split(n, n_val, class_names, target, val_fraction)
    perm = np.random.default_rng(seed).permutation(n)
    tr, va = perm[n_val:], perm[:n_val]
    ds = finish_dataset(name, X[tr], y[tr], X[va], y[va], task, None if class_names is None else len(class_names),
                        features, class_names, standardize=standardize, dtype=dtype)
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


STRICT_BLOCK_ROWS = 2048  # rows the strict reader converts at a time: the text's tokens never pile up whole


def _strict_parse(text, target, task, max_rows, block_rows=STRICT_BLOCK_ROWS):
    """The strict reader: -> (feature names, X (n, D) float64, y (n,), task, class_names or None).

    Rows are tokenised and converted `block_rows` at a time, so memory holds the text, X and the target's strings,
    not every cell's token (a 46 MB file with one quoted cell: 763 MB -> see tests/test_datasets.py). The first error
    in file order wins (within a block: a ragged row before a bad value, then columns left to right)."""
    records = _records(text, max_rows)
    header = next(records)
    if target not in header:
        raise CSVError(f"target column {target!r} not found; available columns: "
                       f"{', '.join(repr(c) for c in header)}")
    features = [c for c in header if c != target]
    if not features:
        raise CSVError(f"no feature columns: the file has only the target column {target!r}; "
                       "add at least one numeric feature column")
    blocks, targets, lines = [], [], []
    while block := list(itertools.islice(records, block_rows if lines else max(2, block_rows))):
        if not lines and len(block) < 2:
            break  # a header and at most one row: said below, before any value is read
        first = len(lines)
        lines.extend(line for _, line in block)
        frame = pd.DataFrame([r for r, _ in block], columns=header, dtype=object).apply(lambda col: col.str.strip())
        del block
        where = _Lines(lines, first)
        blocks.append(np.column_stack([_numeric_feature(frame[c], c, where) for c in features]))  # (m, D)
        targets.extend(frame[target].tolist())
    if len(lines) < 2:
        what = "no data rows (header only)" if not lines and not block else "only 1 data row"
        raise CSVError(f"the file has {what}; need at least 2 data rows")
    X = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    del blocks
    y, task, class_names = _parse_target(pd.Series(targets, dtype=object), target, task, lines)
    return features, X, y, task, class_names


class _Lines:
    """A block's view of the file line numbers of the rows read so far: row i of the block is row first + i."""

    def __init__(self, lines, first):
        self.lines, self.first = lines, first

    def __getitem__(self, i):
        return self.lines[self.first + i]


class _Scan(NamedTuple):
    """What the fast reader's pass over the bytes found: the header, the delimiter, and how many data rows."""
    header: list[str]
    delimiter: str
    n_rows: int


def _as_bytes(data):
    """A buffer's contents as bytes for the fast reader (None: leave it to the strict one)."""
    if isinstance(data, str):
        try:
            return data.encode("utf-8")  # a leading U+FEFF becomes the BOM that utf-8-sig drops
        except UnicodeEncodeError:
            return None
    return data if isinstance(data, bytes) else None


def _open(source):
    return open(source, "rb") if isinstance(source, str) else io.BytesIO(source)


def _scan(source, target) -> _Scan | None:
    """One pass over the bytes: None where the strict reader must decide (a NUL byte, text that is not UTF-8,
    no header in the first 64 KB, a missing target column, a quote after the header, ...); else the header and
    the data rows, counted as pandas will (blank lines skipped)."""
    try:
        f = _open(source)
    except OSError:
        return None
    with f:
        head = f.read(_HEADER_PREFIX)
        end = head.rfind(b"\n") + 1  # the prefix ends with a whole line
        try:
            text = head[:end].decode("utf-8-sig")
            header, _, _ = _tokenize(text, max_rows=0)
            first = next(ln for ln in io.StringIO(text, newline="") if ln.strip())
        except (CSVError, UnicodeDecodeError, StopIteration):
            return None
        at = head.find(first.encode())
        if at < 0 or target not in header or len(header) < 2:
            return None
        body = at + len(first.encode())  # where the data rows start
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, newlines, blank, tail, last = 0, 0, False, b"\n", b"\n"  # the header line ended with a newline
        while block := f.read(_SCAN_BYTES):
            start = max(0, body - offset)  # the data rows' first byte in this block (no copies of the block)
            if b"\x00" in block or block.find(b'"', start) != -1:
                return None
            if not block.isascii() or decoder.getstate()[0]:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return None
            if start < len(block):
                newlines += block.count(b"\n", start)
                edge = tail + block[start:start + 2]
                blank = (blank or block.find(b"\n\n", start) != -1 or block.find(b"\n\r\n", start) != -1
                         or b"\n\n" in edge or b"\n\r\n" in edge)
                tail, last = (tail + block[max(start, len(block) - 2):])[-2:], block[-1:]
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
        n_rows = newlines + (last != b"\n")
        if blank:
            f.seek(body)
            n_rows = sum(1 for line in f if line.rstrip(b"\r\n"))
    return _Scan(header, _delimiter(first), n_rows)


def _rows(source, scan, target, max_rows):
    """The data rows a block at a time: (X block (m, D) float64, target block: float64 where every value is a
    number, else the stripped strings); raises _GiveUp where the strict reader must decide."""
    features = [c for c in scan.header if c != target]
    dtypes = {c: np.float64 for c in features} | {target: object}
    chunk = max(1, _PARSE_VALUES // len(scan.header))
    with _open(source) as f, warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Length of header or names does not match length of data"
        try:
            reader = pd.read_csv(f, sep=scan.delimiter, header=0, names=scan.header, index_col=False, dtype=dtypes,
                                 na_filter=False, engine="c", encoding="utf-8-sig", nrows=max_rows,
                                 skip_blank_lines=True, chunksize=chunk)
            for frame in reader:
                X = frame[features].to_numpy(np.float64)
                lo, hi = X.min(initial=0.0), X.max(initial=0.0)  # NaN and inf propagate
                if not (np.isfinite(lo) and np.isfinite(hi) and max(-lo, hi) <= _MAX_ABS):
                    raise _GiveUp
                values = frame[target]
                del frame
                # all numbers (surrounding blanks allowed): what stripping first would give; no missing marker
                # parses as a number. Otherwise the strict reader's steps.
                num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                if np.isnan(num).any():
                    values = values.str.strip()
                    if values.str.lower().isin(_MISSING).any():
                        raise _GiveUp
                    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                yield X, (values.to_numpy(dtype=object) if np.isnan(num).any() else num)
        except (ValueError, TypeError, Warning, pd.errors.ParserError) as e:
            raise _GiveUp from e


class _GiveUp(Exception):
    """The fast reader leaves this file to the strict one."""


def _target(parts, target, task, n):
    """(y (n,), task, class_names) from the target blocks of `_rows`, as `_parse_target` gives; _GiveUp on a
    target the strict reader must explain (or a mix of numeric and text blocks)."""
    kinds = {p.dtype == object for p in parts}
    try:
        if kinds == {True}:
            return _parse_target(pd.Series(np.concatenate(parts)), target, task, range(1, n + 1))
        num = np.concatenate(parts) if parts else np.empty(0)
        if kinds == {False} or not parts:
            if (np.isinf(num) | (np.abs(num) > _MAX_ABS) | (np.abs(num) >= 2.0**53)).any():
                raise _GiveUp  # beyond 2**53 the text tells integers apart: the strict reader has it
            return _numeric_target(num, target, task)
    except CSVError as e:
        raise _GiveUp from e
    raise _GiveUp


def _fast_parse(data, target, task, max_rows):
    """The fast reader on whole bytes, in file order: the strict reader's (features, X, y, task, class_names)
    for a clean file, or None for anything else. (`load_csv_dataset` puts the blocks straight into the split.)"""
    if not isinstance(data, bytes):
        return None
    scan = _scan(data, target)
    if scan is None or min(scan.n_rows, max_rows or scan.n_rows) < 2:
        return None
    try:
        blocks = list(_rows(data, scan, target, max_rows))
        y, task, class_names = _target([b[1] for b in blocks], target, task, sum(len(b[0]) for b in blocks))
    except _GiveUp:
        return None
    X = np.concatenate([b[0] for b in blocks])
    if len(X) != min(scan.n_rows, max_rows or scan.n_rows) or len(X) < 2:
        return None
    return [c for c in scan.header if c != target], X, y, task, class_names


def _fast_load(source, target, task, max_rows, split) -> Dataset | None:
    """The fast reader: the file's rows straight into the seeded split (train rows in float64 until their
    statistics are known, then standardised in place); None where the strict reader must decide."""
    if source is None:
        return None
    scan = _scan(source, target)
    n = 0 if scan is None else min(scan.n_rows, max_rows or scan.n_rows)
    if n < 2:
        return None
    val_fraction, seed, standardize, dtype, name = split
    features = [c for c in scan.header if c != target]
    n_val = round(n * val_fraction)
    perm = np.random.default_rng(seed).permutation(n)
    where = np.empty(n, np.int64)  # where[r]: file row r's place in perm (train rows: perm[n_val:])
    where[perm] = np.arange(n)
    X_train, X_val = RawRows(n - n_val, len(features)), RawRows(n_val, len(features))
    parts, at = [], 0
    try:
        for X, values in _rows(source, scan, target, max_rows):
            if at + len(X) > n:
                raise _GiveUp
            w = where[at:at + len(X)]
            train = w >= n_val
            X_train.raw[w[train] - n_val] = X[train]
            X_val.raw[w[~train]] = X[~train]
            parts.append(values)
            at += len(X)
            del X, values
        if at != n:
            raise _GiveUp
        stats = column_stats(X_train.raw, standardize)
        X_tr, X_va = X_train.finish(stats, dtype), X_val.finish(stats, dtype)  # float32 frees half: then the target
        y, task, class_names = _target(parts, target, task, n)
    except _GiveUp:
        return None
    del parts
    _check_split(n, n_val, class_names, target, val_fraction)
    y_train, y_val = finish_targets(y[perm[n_val:]], y[perm[:n_val]], task, standardize, dtype)
    n_classes = None if class_names is None else len(class_names)
    ds = Dataset(name, X_tr, y_train, X_va, y_val, task, n_classes, tuple(features),
                 None if class_names is None else tuple(class_names))
    if dtype == np.float32 and not standardize:
        _check_range(ds, features, target, dtype)
    return ds


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
    records = _records(text, max_rows)
    header = next(records)
    rows, lines = [], []
    for record, line in records:
        rows.append(record)
        lines.append(line)
    return header, rows, lines


def _records(text, max_rows):
    """Yields the header's names, then (data row as a list of str, its 1-based file line) for each data row."""
    first = next((ln for ln in _split_lines(text) if ln.strip()), None)
    if first is None:
        raise CSVError("the file has no header line; expected column names on the first line")
    delimiter = _delimiter(first)
    reader = csv.reader(_split_lines(text), delimiter=delimiter, strict=True)
    header, n = None, 0
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if header is None:
                header = _check_header([f.strip() for f in record])
                yield header
                if max_rows == 0:
                    return
            elif len(record) != len(header):
                hint = next((f" (it contains {d!r} but the header is split on {delimiter!r})"
                             for d in _DELIMITERS if d != delimiter and d in delimiter.join(record)), "")
                raise CSVError(f"line {reader.line_num}: expected {len(header)} fields like the header, "
                               f"got {len(record)}{hint}")
            else:
                yield record, reader.line_num
                n += 1
                if max_rows is not None and n >= max_rows:
                    return
    except csv.Error as e:
        hint = "; is a '\"' quote left open?" if "end of data" in str(e) else ""
        raise CSVError(f"line {reader.line_num}: malformed CSV ({e}){hint}") from None
    if header is None:
        raise CSVError("the file has no header line; expected column names on the first line")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _split_lines(text):
    """The lines of `text` with their ends, as `io.StringIO(text, newline="")` yields them, one at a time without
    its copy of the text (4 bytes a character: 184 MB for a 46 MB upload)."""
    return (m.group() for m in _LINE.finditer(text))


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
    return f"column {column!r}, row {getattr(lines, 'first', 0) + i + 1} (line {lines[i]})"


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
    if not text.any():
        return _numeric_target(num, column, task, values)
    labels, y = np.unique(values.to_numpy(dtype=object), return_inverse=True)
    return _classes(y, tuple(str(v) for v in labels), column)


def _numeric_target(num, column, task, values=None):
    """A numeric target (n,) float64 -> (y, task, class_names or None), as `_parse_target`; `values` (its text)
    tells apart integers beyond 2**53 that float64 merges."""
    integral = bool(np.all(num == np.round(num)))
    exact = _exact_integers(values, num) if integral and values is not None else None
    keys = num if exact is None else exact
    few = integral and len(np.unique(keys)) <= MAX_AUTO_CLASSES
    if task == "regression" or (task == "auto" and not few):
        return num, "regression", None
    labels, y = np.unique(keys, return_inverse=True)  # sorted numerically: "10" after "9"
    return _classes(y, tuple(str(int(v)) if integral else repr(float(v)) for v in labels), column)


def _classes(y, names, column):
    if len(names) < 2:
        raise CSVError(f"target column {column!r} has a single class {names[0]!r}; classification needs "
                       "at least 2 classes")
    return y.astype(np.int64).reshape(-1), "classification", names
