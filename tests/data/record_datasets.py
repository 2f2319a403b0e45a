"""Writes datasets_before_issue16.npz: what make_dataset / load_csv_dataset return for the cases of
tests/datasets/test_dataset_pipeline.py (float64). Run at commit f8a1874, before the issue-16 pipeline:
python tests/data/record_datasets.py"""

import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent.parent), str(HERE.parent)]

from test_dataset_pipeline import CASES, CSV_CASES, FIXTURE, PARTS, csv_text  # noqa: E402

from gd_core import load_csv_dataset, make_dataset  # noqa: E402

if __name__ == "__main__":
    out = {}
    for key, kw in CASES.items():
        kw = dict(kw)
        ds = make_dataset(kw.pop("name"), **kw)
        out.update({f"{key}/{part}": getattr(ds, part) for part in PARTS})
    for key, kw in CSV_CASES.items():
        ds = load_csv_dataset(io.StringIO(csv_text()), "label", **kw)
        out.update({f"{key}/{part}": getattr(ds, part) for part in PARTS})
    np.savez_compressed(FIXTURE, **out)
