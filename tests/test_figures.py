"""Lines and labels on log axes: plotly reads an annotation's x on a log axis as log10(x)."""

import math

import pandas as pd
import plotly.graph_objects as go

from ui.figures import log_vline
from ui.scaling_charts import scaling_rules_chart


def test_log_vline_label_sits_at_the_line():
    fig = go.Figure(go.Scatter(x=[1, 256], y=[1, 2]))
    fig.update_xaxes(type="log")
    log_vline(fig, 60.0, "B_crit=60")
    assert fig.layout.shapes[0].x0 == 60.0
    assert math.isclose(fig.layout.annotations[0].x, math.log10(60.0))
    assert fig.layout.annotations[0].text == "B_crit=60"


def test_scaling_rules_chart_labels_stay_within_the_batch_sizes():
    table = pd.DataFrame({"rule": ["fixed lr"] * 3, "batch_size": [1, 16, 256], "final_loss": [0.1, 0.2, 0.3],
                          "diverged": [False] * 3, "lr": [0.1] * 3})
    fig = scaling_rules_chart(table, b_crit=60.8, ref_batch_size=4)
    xs = [a.x for a in fig.layout.annotations]
    assert len(xs) == 2 and all(0 <= x <= math.log10(256) for x in xs)  # was 60.8 -> drawn at 10^60.8
    assert all(a.text != "new text" for a in fig.layout.annotations)
