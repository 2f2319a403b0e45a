"""The fast CSV reader: one pass over the bytes, then pandas' C parser a block of rows at a time.

`scan` checks the bytes and counts the rows; `read_blocks` yields (features float64, target) blocks. Either raises
or returns None (`GiveUp`) on anything it does not take exactly as the strict reader (`csv_text.py`) would: a quote
in the data rows, a ragged row, a missing, non-finite or too large value, a bad target, ... `csv.py` then lets the
strict reader read the file and explain.
"""

from __future__ import annotations

import codecs
import io
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from .csv_text import MAX_ABS, MISSING, CSVError, numeric_target, parse_target, sniff_delimiter, tokenize
from .dataset import BLOCK_VALUES

HEADER_PREFIX = 1 << 16  # bytes in which the fast reader looks for the header line
SCAN_BYTES = 1 << 24  # the fast reader checks the file 16 MB at a time
PARSE_VALUES = 16 * BLOCK_VALUES  # numbers in one block of rows pandas parses (16 MB of float64)


def parse_rows(n_columns):
    """Rows in one block the readers parse and place (~PARSE_VALUES numbers)."""
    return max(1, PARSE_VALUES // n_columns)


class Scan(NamedTuple):
    """What the fast reader's pass over the bytes found: the header, the delimiter, how many data rows, whether
    the first rows' targets are all numbers (then the target is parsed as float64, else as text), and how many
    delimiters the first `max_rows` data rows hold (`fields_match`)."""
    header: list[str]
    delimiter: str
    n_rows: int
    numeric_target: bool = False
    delimiters: int = 0


def as_bytes(data):
    """A buffer's contents as bytes for the fast reader (None: leave it to the strict one)."""
    if isinstance(data, str):
        try:
            return data.encode("utf-8")  # a leading U+FEFF becomes the BOM that utf-8-sig drops
        except UnicodeEncodeError:
            return None
    return data if isinstance(data, bytes) else None


def _open(source):
    return open(source, "rb") if isinstance(source, str) else io.BytesIO(source)


def scan_file(source, target, exact=False, max_rows=None) -> Scan | None:
    """One pass over the bytes: None where the strict reader must decide (a NUL byte, text that is not UTF-8,
    no header in the first 64 KB, a missing target column, a quote after the header, ...); else the header and
    the data rows, counted as pandas will (blank lines skipped).

    exact=False counts every line but blank ones at the end of the file: an upper bound, exact unless a blank
    line comes before a data row (rare: `csv._fast_load` then sees fewer rows and asks again with exact=True,
    which reads every line)."""
    try:
        f = _open(source)
    except OSError:
        return None
    with f:
        head = f.read(HEADER_PREFIX)
        end = head.rfind(b"\n") + 1  # the prefix ends with a whole line
        try:
            text = head[:end].decode("utf-8-sig")
            header, _, _ = tokenize(text, max_rows=0)
            first = next(ln for ln in io.StringIO(text, newline="") if ln.strip())
        except (CSVError, UnicodeDecodeError, StopIteration):
            return None
        at = head.find(first.encode())
        if at < 0 or target not in header or len(header) < 2:
            return None
        body = at + len(first.encode())  # where the data rows start
        delimiter = sniff_delimiter(first)
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, newlines, trailing, last = 0, 0, 0, b"\n"  # trailing: newlines after the last non-blank byte
        sep, delimiters = ord(delimiter), 0
        while block := f.read(SCAN_BYTES):
            start = max(0, body - offset)  # the data rows' first byte in this block (no copies of the block)
            if b"\x00" in block or block.find(b'"', start) != -1:
                return None
            if not block.isascii() or decoder.getstate()[0]:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return None
            if start < len(block):
                text = np.frombuffer(block, np.uint8, offset=start)
                ends = text == 10  # "\n"
                count = int(np.count_nonzero(ends))
                if max_rows is None or newlines + count < max_rows:
                    delimiters += int(np.count_nonzero(text == sep))
                elif newlines < max_rows:  # up to the end of line max_rows (of the data rows, if none is blank)
                    delimiters += int(np.count_nonzero(text[:np.flatnonzero(ends)[max_rows - newlines - 1]] == sep))
                newlines += count
                i = len(block)
                while i > start and block[i - 1] in b"\r\n":
                    i -= 1
                trailing = trailing + count if i == start else block.count(b"\n", i)
                last = block[-1:]
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
        # lines, less the blank ones at the end: after the last row's own newline, each further newline ends
        # one, and a last line without a newline (of "\r"s only, then) is one more
        n_rows = newlines + (last != b"\n") - max(0, trailing - 1) - (trailing > 0 and last != b"\n")
        if exact:
            f.seek(body)
            n_rows, delimiters = 0, 0
            for line in f:
                if line.rstrip(b"\r\n"):
                    n_rows += 1
                    delimiters += line.count(sep) if max_rows is None or n_rows <= max_rows else 0
    return Scan(header, delimiter, n_rows, _numbers_first(head[at:end], header, delimiter, target), delimiters)


def fields_match(scan, n_read):
    """Whether the delimiters of the rows read are exactly n_read x (columns - 1): pandas 3.0 and older drop a
    row's trailing empty field ("1,2," under "a,y"), which the strict reader refuses. (No quotes: each delimiter
    byte separates two fields.) A miscount with blank lines before a data row is mended by the exact count."""
    return scan.delimiters == n_read * (len(scan.header) - 1)


def _numbers_first(text, header, delimiter, target):
    """Whether every target value in the first 64 KB of rows is a number (`pd.to_numeric` reads it)."""
    try:
        values = pd.read_csv(io.BytesIO(text), sep=delimiter, header=0, names=header, index_col=False,
                             usecols=[target], dtype=object, na_filter=False, engine="c", encoding="utf-8",
                             skip_blank_lines=True)[target]
    except (ValueError, TypeError, pd.errors.ParserError):
        return False
    return len(values) > 0 and not np.isnan(pd.to_numeric(values, errors="coerce").to_numpy(np.float64)).any()


def read_blocks(source, scan, target, max_rows):
    """The data rows a block at a time: (X block (m, D) float64, target block: float64 where every value is a
    number, else the stripped strings); raises GiveUp where the strict reader must decide.

    A target whose first rows are numbers (`Scan.numeric_target`) is parsed as float64 like the features (a
    later text value makes pandas raise: GiveUp); else as text, converted here block by block."""
    features = [c for c in scan.header if c != target]
    dtypes = {c: np.float64 for c in features} | {target: np.float64 if scan.numeric_target else object}
    chunk = parse_rows(len(scan.header))
    with _open(source) as f, warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Length of header or names does not match length of data"
        try:
            reader = pd.read_csv(f, sep=scan.delimiter, header=0, names=scan.header, index_col=False, dtype=dtypes,
                                 na_filter=False, engine="c", encoding="utf-8-sig", nrows=max_rows,
                                 skip_blank_lines=True, chunksize=chunk)
            for frame in reader:
                X = frame[features].to_numpy(np.float64)
                lo, hi = X.min(initial=0.0), X.max(initial=0.0)  # NaN and inf propagate
                if not (np.isfinite(lo) and np.isfinite(hi) and max(-lo, hi) <= MAX_ABS):
                    raise GiveUp
                values = frame[target]
                del frame
                if scan.numeric_target:
                    num = values.to_numpy(np.float64)
                    if not np.isfinite(num).all():
                        raise GiveUp  # "nan", "inf", ...: the strict reader explains
                    yield X, num
                    continue
                # all numbers (surrounding blanks allowed): what stripping first would give; no missing marker
                # parses as a number. Otherwise the strict reader's steps.
                num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                if np.isnan(num).any():
                    values = values.str.strip()
                    if values.str.lower().isin(MISSING).any():
                        raise GiveUp
                    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                yield X, (values.to_numpy(dtype=object) if np.isnan(num).any() else num)
        except (ValueError, TypeError, Warning, pd.errors.ParserError) as e:
            raise GiveUp from e


class GiveUp(Exception):
    """The fast reader leaves this file to the strict one."""


def block_target(parts, target, task, n):
    """(y (n,), task, class_names) from the target blocks of `read_blocks`, as `parse_target` gives; GiveUp on a
    target the strict reader must explain (or a mix of numeric and text blocks)."""
    kinds = {p.dtype == object for p in parts}
    try:
        if kinds == {True}:
            return parse_target(pd.Series(np.concatenate(parts)), target, task, range(1, n + 1))
        num = np.concatenate(parts) if parts else np.empty(0)
        if kinds == {False} or not parts:
            if (np.isinf(num) | (np.abs(num) > MAX_ABS) | (np.abs(num) >= 2.0**53)).any():
                raise GiveUp  # beyond 2**53 the text tells integers apart: the strict reader has it
            return numeric_target(num, target, task)
    except CSVError as e:
        raise GiveUp from e
    raise GiveUp


def scans(source, target, max_rows):
    """(scan, rows to read) to try in turn: the first count (`scan_file`), then, where the rows read disagree
    with it, the exact one; none for a file the strict reader must take (or with fewer than 2 rows)."""
    for exact in (False, True):
        scan = scan_file(source, target, exact=exact, max_rows=max_rows)
        n = 0 if scan is None else min(scan.n_rows, max_rows or scan.n_rows)
        if n < 2:
            return
        yield scan, n


def fast_parse(data, target, task, max_rows):
    """The fast reader on whole bytes, in file order: the strict reader's (features, X, y, task, class_names)
    for a clean file, or None for anything else. (`load_csv_dataset` puts the blocks straight into the split;
    both count the rows again, exactly, when the parser finds fewer than the first count.)"""
    if not isinstance(data, bytes):
        return None
    for scan, n in scans(data, target, max_rows):
        try:
            blocks = list(read_blocks(data, scan, target, max_rows))
            y, task, class_names = block_target([b[1] for b in blocks], target, task,
                                                sum(len(b[0]) for b in blocks))
        except GiveUp:
            return None
        X = np.concatenate([b[0] for b in blocks])
        if len(X) == n and fields_match(scan, n):
            return [c for c in scan.header if c != target], X, y, task, class_names
    return None
