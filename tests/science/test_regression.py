"""RMSE in the target's units and R² (gd_core.science.regression), against scikit-learn on the same split; and
the real image set (digits) learnt by softmax, SVM and an MLP about as well as scikit-learn's LogisticRegression."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_squared_error, r2_score

from gd_core import ExperimentConfig, build_dataset, make_problem, run_experiment
from gd_core.data.real import load_real_dataset, read_real_csv
from gd_core.science.regression import REGRESSION_COLUMNS, regression_metrics, target_stats


def _raw_split(name, seed, val_fraction=0.2):
    _, X, y = read_real_csv(name)
    n_val = round(len(X) * val_fraction)
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order[n_val:]], y[order[n_val:]], X[order[:n_val]], y[order[:n_val]]


def test_rmse_in_target_units_and_r2_at_the_optimum_equal_scikit_learns():
    ds = load_real_dataset("diabetes", seed=0)
    problem = make_problem("least_squares", ds.n_features)
    w = problem.optimum(ds.X_train, ds.y_train)
    summary = pd.DataFrame({"problem": ["least_squares"], "final_train_loss": [problem.loss(w, ds.X_train, ds.y_train)],
                            "final_val_loss": [problem.loss(w, ds.X_val, ds.y_val)]})
    got = regression_metrics(summary, target_stats(ds), reg=0.0).iloc[0]
    Xt, yt, Xv, yv = _raw_split("diabetes", 0)  # raw units: OLS predictions do not depend on the scaling
    model = LinearRegression().fit(Xt, yt)
    assert got["final_train_rmse"] == pytest.approx(mean_squared_error(yt, model.predict(Xt)) ** 0.5, rel=1e-9)
    assert got["final_val_rmse"] == pytest.approx(mean_squared_error(yv, model.predict(Xv)) ** 0.5, rel=1e-9)
    assert got["final_train_r2"] == pytest.approx(r2_score(yt, model.predict(Xt)), rel=1e-9)
    assert got["final_val_r2"] == pytest.approx(r2_score(yv, model.predict(Xv)), rel=1e-9)
    assert 40 < got["final_val_rmse"] < 70  # in the target's units (scores 25-346), not standardised ones


def test_a_long_full_batch_run_reaches_scikit_learns_r2_and_other_rows_stay_blank():
    config = ExperimentConfig(problem="least_squares", dataset="diabetes", batch_sizes=("full",), lrs=(0.5,),
                              budget=3000, n_checkpoints=5)
    ds = build_dataset(config)
    got = regression_metrics(run_experiment(config).summary, target_stats(ds), config.reg).iloc[0]
    Xt, yt, Xv, yv = _raw_split("diabetes", 0)
    model = LinearRegression().fit(Xt, yt)
    assert got["final_val_r2"] == pytest.approx(r2_score(yv, model.predict(Xv)), abs=2e-3)
    ridge = regression_metrics(run_experiment(config.replace(reg=0.1, budget=5)).summary, target_stats(ds), 0.1)
    assert ridge[list(REGRESSION_COLUMNS)].isna().all().all()  # the loss holds the penalty: not an RMSE
    softmax = regression_metrics(run_experiment(ExperimentConfig(batch_sizes=(32,), budget=1)).summary,
                                 target_stats(build_dataset(ExperimentConfig())), 0.0)
    assert softmax[list(REGRESSION_COLUMNS)].isna().all().all()


@pytest.mark.parametrize("problem, lr", [("softmax", 0.1), ("svm", 0.01), ("mlp", 0.1)])
def test_digits_is_learnt_about_as_well_as_by_scikit_learns_logistic_regression(problem, lr):
    config = ExperimentConfig(dataset="digits", problem=problem, batch_sizes=(32,), budget=5, lrs=(lr,))
    ds = build_dataset(config)
    reference = LogisticRegression(max_iter=2000).fit(ds.X_train, ds.y_train).score(ds.X_val, ds.y_val)
    accuracy = run_experiment(config).summary["final_val_accuracy"].iloc[0]
    assert reference > 0.95  # chance is 0.1
    assert accuracy >= reference - 0.03, (accuracy, reference)
