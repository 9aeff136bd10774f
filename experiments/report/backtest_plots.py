"""Figures of the backtest (experiments/calibrate/backtest.py): observed against predicted by
interval of the day, with the replications' 95% band."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: metric -> axis label
LABELS = {"abandon_frac": "abandonment (fraction of offered)", "asa_s": "ASA (s)",
          "sl_frac": "service level (fraction of offered)"}


def plot_backtest_by_interval(frame: pd.DataFrame, metric: str = "abandon_frac", ax: Axes | None = None) -> Axes:
    """Observed (dots) and predicted mean (line) of ``metric`` per interval of the day, with the
    band of 95% of replications; ``frame``: backtest_by_interval.csv's rows."""
    if ax is None:
        ax = Figure(layout="constrained").add_subplot()
    rows = frame[frame["metric"] == metric].sort_values("interval_start_h")
    hours = rows["interval_start_h"]
    ax.fill_between(hours, rows["predicted_low"], rows["predicted_high"], step="mid", alpha=0.25,
                    color="tab:blue", label="predicted, 95% of replications")
    ax.plot(hours, rows["predicted_mean"], drawstyle="steps-mid", color="tab:blue", label="predicted mean")
    ax.plot(hours, rows["observed"], "o", color="black", markersize=3, label="observed")
    ax.set_xlabel("interval start (hour of day)")
    ax.set_ylabel(LABELS.get(metric, metric))
    ax.set_xlim(0, 24)
    ax.legend(loc="best", fontsize="small")
    return ax


def backtest_figure(frame: pd.DataFrame, dpi: int = 110) -> bytes:
    """The three metrics by interval of the day, one panel each, as PNG bytes."""
    fig = Figure(figsize=(8.6, 10.0), layout="constrained")
    for ax, metric in zip(fig.subplots(len(LABELS), 1, sharex=True), LABELS, strict=True):
        plot_backtest_by_interval(frame, metric, ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
