"""Writes gd_core/data/real_csv/*.csv from scikit-learn's bundled copies (a dev dependency) and prints each file's
SHA-256 for gd_core/data/real_csv/PROVENANCE.md: python tests/data/record_real_datasets.py

One header line (the feature names, then `target`), one line per example in scikit-learn's order; numbers as
Python's shortest round-trip text (whole numbers without `.0`), so parsing gives scikit-learn's float64 values
exactly. Classification targets are scikit-learn's class indices; diabetes is `load_diabetes(scaled=False)`:
the measurements in their own units, not scikit-learn's default rescaled copy."""

import hashlib
import sys
from pathlib import Path

import numpy as np
from sklearn import datasets

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from gd_core.data.real import DATA_DIR, REAL_DATASETS  # noqa: E402

LOADERS = {"iris": datasets.load_iris, "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
           "digits": datasets.load_digits, "diabetes": lambda: datasets.load_diabetes(scaled=False)}


def number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def csv_text(name: str) -> str:
    bunch = LOADERS[name]()
    header = [str(f) for f in bunch.feature_names]
    lines = [",".join([*header, "target"])]
    for row, t in zip(bunch.data, bunch.target, strict=True):
        lines.append(",".join([*map(number, row), number(t)]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    assert tuple(LOADERS) == REAL_DATASETS, (tuple(LOADERS), REAL_DATASETS)
    for name in REAL_DATASETS:
        text = csv_text(name).encode()
        (DATA_DIR / f"{name}.csv").write_bytes(text)
        print(name, hashlib.sha256(text).hexdigest(), len(text), np.asarray(LOADERS[name]().data).shape)
