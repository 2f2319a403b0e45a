"""The strict CSV reader: text -> feature matrix and target, every problem a located `CSVError`.

The stdlib `csv` reader tokenizes (one parser, exact line numbers for ragged rows), pandas converts columns to
numbers, and each problem gets a message naming the column, row and line and the rule. Rows are numbered 1-based
over data rows (header excluded); lines are file lines. `csv.py` tries its fast reader first and uses this one
for any file the fast one does not take exactly as this one would.
"""

from __future__ import annotations

import csv
import itertools
import os
import re

import numpy as np
import pandas as pd

from .dataset import MAX_FEATURES

MISSING = {"", "nan", "na", "n/a", "null", "none"}
MAX_ABS = 1e100  # larger magnitudes would overflow when squared in the losses and statistics
MAX_AUTO_CLASSES = 20
DELIMITERS = ",;\t|"
MAX_COLUMNS = MAX_FEATURES + 1  # feature columns and the target


class CSVError(ValueError):
    """The CSV file cannot become a Dataset; the message names the column/row/line and the rule."""


STRICT_BLOCK_ROWS = 2048  # rows the strict reader converts at a time: the text's tokens never pile up whole


def strict_parse(text, target, task, max_rows, block_rows=STRICT_BLOCK_ROWS):
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
    y, task, class_names = parse_target(pd.Series(targets, dtype=object), target, task, lines)
    return features, X, y, task, class_names


class _Lines:
    """A block's view of the file line numbers of the rows read so far: row i of the block is row first + i."""

    def __init__(self, lines, first):
        self.lines, self.first = lines, first

    def __getitem__(self, i):
        return self.lines[self.first + i]


def read_raw(src) -> bytes | str:
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


def decode(data) -> str:
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


def tokenize(text, max_rows):
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
    delimiter = sniff_delimiter(first)
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
                             for d in DELIMITERS if d != delimiter and d in delimiter.join(record)), "")
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


def sniff_delimiter(first_line: str) -> str:
    # a ';' / tab / '|' file read with ',' is one garbage column: pick the delimiter from the header
    return "," if "," in first_line else next((d for d in DELIMITERS if d in first_line), ",")


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
    too_big = np.isinf(num) | (np.abs(np.nan_to_num(num)) > MAX_ABS)
    if too_big.any():
        i = int(np.argmax(too_big))
        raise CSVError(f"value {values.iloc[i]!r} in {_where(column, i, lines)} is infinite or too large; "
                       f"values must be finite numbers with magnitude <= {MAX_ABS:g}")
    return num


def _numeric_feature(values, column, lines):
    num = _to_float(values, column, lines)
    if np.isnan(num).any():
        i = int(np.argmax(np.isnan(num)))
        raw = values.iloc[i]
        if raw.lower() in MISSING:
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


def parse_target(values, column, task, lines):
    """-> (y (n,), task, class_names or None); y is float64 for regression, int64 indices otherwise."""
    missing = values.str.lower().isin(MISSING).to_numpy()
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
        return numeric_target(num, column, task, values)
    labels, y = np.unique(values.to_numpy(dtype=object), return_inverse=True)
    return _classes(y, tuple(str(v) for v in labels), column)


def numeric_target(num, column, task, values=None):
    """A numeric target (n,) float64 -> (y, task, class_names or None), as `parse_target`; `values` (its text)
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
