import math

import pytest

from gd_core.optim.schedules import LR_SCALING, SCHEDULES, make_schedule, scale_lr


def schedule(name, **kwargs):
    kwargs = {"steps_per_epoch": 10.0, "total_steps": 100, **kwargs}
    return make_schedule(name, 0.4, **kwargs)


@pytest.mark.parametrize("name, kwargs, expected", [
    ("constant", {}, {0: 0.4, 57: 0.4, 1000: 0.4}),
    # step: drops by gamma every step_epochs = 2 epochs = 20 steps
    ("step", {"step_epochs": 2.0, "gamma": 0.5}, {0: 0.4, 19: 0.4, 20: 0.2, 39: 0.2, 40: 0.1, 65: 0.05}),
    ("exponential", {"decay": 0.5}, {0: 0.4, 10: 0.4 * math.exp(-0.5), 35: 0.4 * math.exp(-1.75)}),
    ("inverse_time", {"decay": 0.5}, {0: 0.4, 10: 0.4 / 1.5, 40: 0.4 / 3.0}),
    ("cosine", {}, {0: 0.4, 50: 0.2, 25: 0.2 * (1 + math.cos(math.pi / 4)), 100: 0.0, 150: 0.0}),
])
def test_known_values(name, kwargs, expected):
    lr_at = schedule(name, **kwargs)
    for step, value in expected.items():
        assert lr_at(step) == pytest.approx(value, rel=1e-12, abs=1e-15), (name, step)
        assert isinstance(lr_at(step), float)


def test_time_is_measured_in_epochs_so_batch_size_does_not_change_the_curve():
    # N = 1000: batch 10 -> 100 steps/epoch, batch 1000 -> 1 step/epoch, batch 300 -> 10/3 steps/epoch
    for name in ("step", "exponential", "inverse_time"):
        small = make_schedule(name, 0.1, steps_per_epoch=100.0, total_steps=1000, decay=0.3, gamma=0.5)
        big = make_schedule(name, 0.1, steps_per_epoch=1.0, total_steps=10, decay=0.3, gamma=0.5)
        odd = make_schedule(name, 0.1, steps_per_epoch=1000 / 300, total_steps=30, decay=0.3, gamma=0.5)
        for epoch in range(6):
            assert small(100 * epoch) == pytest.approx(big(epoch), rel=1e-12)
        assert odd(10) == pytest.approx(small(300), rel=1e-12)


def test_warmup_ramps_linearly_from_warmup_from_to_the_schedule_value():
    # 2 epochs of 10 steps: from 0.1 (the reference lr) up to the scaled lr 0.4, then the schedule itself
    lr_at = schedule("constant", warmup_epochs=2.0, warmup_from=0.1)
    values = [lr_at(s) for s in range(25)]
    assert values[0] == pytest.approx(0.1)
    assert values[10] == pytest.approx(0.25)
    for s in range(19):
        assert values[s + 1] - values[s] == pytest.approx(0.015, rel=1e-9)
    assert values[20:] == [0.4] * 5

    cos = schedule("cosine", warmup_epochs=1.0)  # default warmup_from = 0; clock not shifted
    plain = schedule("cosine")
    assert cos(0) == 0.0
    assert cos(5) == pytest.approx(0.5 * plain(10))
    assert cos(10) == plain(10) and cos(60) == plain(60)


def test_fractional_warmup_and_steps_per_epoch():
    lr_at = make_schedule("step", 1.0, steps_per_epoch=2.5, total_steps=50, warmup_epochs=1.0,
                          step_epochs=2.0, gamma=0.5)
    assert lr_at(0) == 0.0
    assert lr_at(1) == pytest.approx(0.4)  # 1 / 2.5 of the way to lr(2.5) = 1.0
    assert lr_at(2) == pytest.approx(0.8)
    assert lr_at(3) == 1.0 and lr_at(4) == 1.0
    assert lr_at(5) == 0.5  # epoch 2: the first drop


@pytest.mark.parametrize("rule, batch_size, expected", [
    ("none", 512, 0.1), ("linear", 512, 0.2), ("linear", 64, 0.025), ("sqrt", 1024, 0.2), ("sqrt", 64, 0.05),
])
def test_scale_lr(rule, batch_size, expected):
    assert scale_lr(0.1, batch_size, rule, 256) == pytest.approx(expected, rel=1e-12)


def test_names():
    assert SCHEDULES == ("constant", "step", "exponential", "inverse_time", "cosine")
    assert LR_SCALING == ("none", "linear", "sqrt")


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "linear"}, "schedule must be one of constant, step, exponential, inverse_time, cosine; got"),
    ({"lr": 0.0}, "lr must be a finite number > 0; got 0.0"),
    ({"lr": float("inf")}, "lr must be a finite number > 0; got inf"),
    ({"steps_per_epoch": 0}, "steps_per_epoch must be a finite number > 0; got 0"),
    ({"total_steps": 0}, "total_steps must be an integer >= 1; got 0"),
    ({"total_steps": 10.5}, "total_steps must be an integer >= 1; got 10.5"),
    ({"warmup_epochs": -1.0}, "warmup_epochs must be a finite number >= 0; got -1.0"),
    ({"warmup_from": -0.1}, "warmup_from must be a finite number >= 0; got -0.1"),
    ({"step_epochs": 0.0}, "step_epochs must be a finite number > 0; got 0.0"),
    ({"gamma": 1.5}, "gamma must be a finite number in (0, 1]; got 1.5"),
    ({"decay": -0.1}, "decay must be a finite number >= 0; got -0.1"),
])
def test_make_schedule_rejects_bad_values(kwargs, message):
    args = {"name": "step", "lr": 0.1, "steps_per_epoch": 10.0, "total_steps": 100, **kwargs}
    with pytest.raises(ValueError) as info:
        make_schedule(args.pop("name"), args.pop("lr"), **args)
    assert message in str(info.value)


@pytest.mark.parametrize("args, message", [
    ((0.1, 32, "cube", 256), "rule must be one of none, linear, sqrt; got 'cube'"),
    ((-0.1, 32, "linear", 256), "lr must be a finite number > 0; got -0.1"),
    ((0.1, 0, "linear", 256), "batch_size must be an integer >= 1; got 0"),
    ((0.1, 32, "sqrt", 0), "ref_batch_size must be an integer >= 1; got 0"),
])
def test_scale_lr_rejects_bad_values(args, message):
    with pytest.raises(ValueError) as info:
        scale_lr(*args)
    assert message in str(info.value)
