import json

import pytest

from gd_core.config import FIELD_KINDS, ConfigError, ExperimentConfig, coerce_field, format_field


def test_defaults_are_valid_and_json_round_trips():
    c = ExperimentConfig()
    assert ExperimentConfig.from_json(c.to_json()) == c


def test_non_default_config_round_trips_through_json_and_url():
    c = ExperimentConfig(problem="least_squares", dataset="linear", n_features=5, condition_number=50.0,
                         batch_sizes=(1, 16, "full"), seeds=(0, 1, 2), lrs=(0.01, 0.1), optimizer="adam",
                         betas=(0.8, 0.99), eps=1e-6, schedule="cosine", warmup_epochs=1.5, target_loss=0.25,
                         n_unique=10, standardize=False, time_limit_s=2.5, dtype="float32")
    assert ExperimentConfig.from_json(c.to_json()) == c
    query = c.to_query()
    assert all(isinstance(v, str) for v in query.values())
    back, errors = ExperimentConfig.from_query(query)
    assert errors == [] and back == c


def test_url_keeps_only_non_defaults():
    assert ExperimentConfig().to_query() == {}
    assert ExperimentConfig(budget=5.0).to_query() == {"budget": "5.0"}


@pytest.mark.parametrize("field, value, message", [
    ("batch_sizes", [0], r'batch_size must be an integer >= 1 or "full"; got 0'),
    ("batch_sizes", [-3], r"batch_size must be an integer >= 1"),
    ("batch_sizes", [5000], r'batch_size must be in \[1, 800\] \(the training examples\) or "full"; got 5000'),
    ("batch_sizes", [], r"batch_sizes must be a non-empty list"),
    ("batch_sizes", ["half"], r'batch_size must be an integer >= 1 or "full"; got \'half\''),
    ("lrs", [0.0], r"lrs must be a non-empty list of finite numbers in \[1e-12, 1e\+06\]; got 0.0"),
    ("lrs", [-1.0], r"lrs must be .*; got -1.0"),
    ("lrs", ["nan"], r"lrs must be .*; got 'nan'"),
    ("lrs", [float("nan")], r"lrs must be .*; got nan"),
    ("lrs", ["1e309"], r"lrs must be .*; got '1e309'"),
    ("optimizer", "lbfgs", r"optimizer must be one of sgd, adagrad, rmsprop, adam; got 'lbfgs'"),
    ("problem", "svm2", r"problem must be one of least_squares, logistic, softmax, svm, mlp"),
    ("budget", 0, r"budget must be a finite number in \[1e-09, 1e\+12\]; got 0"),
    ("n_samples", 1, r"n_samples must be an integer in \[2, 2000000\]; got 1"),
    ("seeds", (99999999999,), r"seeds must be a non-empty list of integers in \[0, 4294967295\]; got"),
    ("n_samples", 10.5, r"n_samples must be an integer"),
    ("n_samples", True, r"n_samples must be an integer"),
    ("standardize", "maybe", r"standardize must be true or false; got 'maybe'"),
    ("betas", [0.9], r"betas must be two numbers in \[0, 1\)"),
    ("betas", [0.9, 1.0], r"betas must be two numbers in \[0, 1\)"),
])
def test_bad_fields_name_field_rule_and_value(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig(**{field: value})


def test_unknown_and_missing_keys():
    with pytest.raises(ConfigError, match=r"unknown config field\(s\) 'colour'; allowed: problem, hidden"):
        ExperimentConfig.from_dict({"colour": "red"})
    # missing keys take their defaults: a partial JSON config is valid
    assert ExperimentConfig.from_dict({"problem": "svm"}).problem == "svm"
    with pytest.raises(ConfigError, match="not valid JSON"):
        ExperimentConfig.from_json("{bad")
    with pytest.raises(ConfigError, match="must be a JSON object; got list"):
        ExperimentConfig.from_json("[1, 2]")


@pytest.mark.parametrize("changes, message", [
    ({"problem": "least_squares"}, r"least_squares needs a regression dataset"),
    ({"problem": "logistic", "dataset": "spiral", "n_classes": 3}, r"logistic needs exactly 2 classes; got 3"),
    ({"problem": "softmax", "dataset": "linear"}, r"softmax needs a classification dataset"),
    ({"nesterov": True}, r"nesterov needs optimizer sgd with momentum > 0"),
    ({"dataset": "csv"}, r"target must name the CSV's target column"),
    ({"budget_unit": "steps", "budget": 10.5}, r"budget must be a whole number of steps; got 10.5"),
    ({"dataset": "spiral", "n_features": 1}, r"n_features must be >= 2 for the spiral dataset; got 1"),
])
def test_rules_between_fields(changes, message):
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig(**changes)


def test_logistic_on_binary_dataset_and_full_batch_are_fine():
    c = ExperimentConfig(problem="logistic", dataset="moons", batch_sizes=("full", 800, "FULL"))
    assert c.batch_sizes == ("full", 800)
    assert c.resolved_batch_sizes(800) == [800]


def test_tampered_url_falls_back_per_field():
    params = {"problem": "rm -rf", "lrs": "-1", "budget": "1e309", "n_samples": "500", "seeds": "1,2",
              "batch_sizes": "1,999999", "foreign": "x", "momentum": "0.9"}
    c, errors = ExperimentConfig.from_query(params)
    assert c.problem == "softmax" and c.lrs == ExperimentConfig().lrs and c.budget == ExperimentConfig().budget
    assert c.n_samples == 500 and c.seeds == (1, 2) and c.momentum == 0.9
    assert c.batch_sizes == ExperimentConfig().batch_sizes  # 999999 > n_train: dropped, default kept
    assert any("problem must be one of" in e for e in errors)
    assert any("batch_size must be in [1, 400]" in e for e in errors)
    assert len(errors) == 4


def test_every_field_formats_and_parses_back():
    c = ExperimentConfig(eps=1e-7, n_unique=3, target_loss=-0.5, csv_path=None)
    for name in FIELD_KINDS:
        value = getattr(c, name)
        assert coerce_field(name, format_field(value)) == value, name


def test_json_is_plain_lists():
    d = json.loads(ExperimentConfig().to_json())
    assert d["batch_sizes"] == [1, 32, 256, "full"]
