"""ui/scaling_charts.py: whole legends and fully labelled log axes."""

import numpy as np
import pandas as pd

from ui import scaling_charts
from ui.colors import batch_size_label

N = 800
SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def test_noise_chart_legend_holds_every_batch_size_below_the_plot():
    # at the right, plotly cut the legend at the chart's height: it ended after B=32
    df = pd.DataFrame({"batch_size": SIZES, "measured": [40.0 / b for b in SIZES], "measured_se": 0.01,
                       "b_simple": 40.0})
    fig = scaling_charts.relative_noise_chart(df, N)
    listed = [t.name for t in fig.data if t.showlegend is not False]
    assert [batch_size_label(b, N) for b in SIZES] == listed[-len(SIZES):]
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # wraps into rows under the plot
    assert fig.layout.margin.b >= 100
    assert fig.layout.yaxis.tickformat == "~g" and fig.layout.xaxis.tickformat == "~g"


def test_steps_chart_legend_below_and_log_ticks_labelled():
    summary = pd.DataFrame({"batch_size": SIZES, "steps_to_target": [100.0 * (1 + 40 / b) for b in SIZES]})
    summary["examples_to_target"] = summary["steps_to_target"] * summary["batch_size"]
    fig = scaling_charts.steps_to_target_chart(summary, None, N)
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        assert fig.layout[axis].type == "log" and fig.layout[axis].tickformat == "~g"
    assert np.isfinite(summary["steps_to_target"]).all()
