"""Figures of a calibration (`bposim calibrate`, docs/calibrate.md): what the log shows against
what the scenario will draw.

Every ``plot_*`` takes a tidy frame made by experiments/calibrate (column names below), draws on
``ax`` (a new figure when ``None``), returns the Axes and never shows or saves; :func:`png` renders
one to PNG bytes without pyplot's global state.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _axes(ax: Axes | None) -> Axes:
    return Figure(figsize=(8.6, 5.0), layout="constrained").add_subplot() if ax is None else ax


def plot_arrival_profile(rates: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Arrival rate by interval of the day, one line per weekday with its interval (band), and the
    separable fit (one profile × a weekday factor) dashed: the scenario's demand unless it has a
    profile per weekday (then the solid lines). ``rates``: ``weekday``, ``interval_start_h``,
    ``days_n``, ``calls_per_h``, ``low_per_h``, ``high_per_h``, ``fitted_per_h``."""
    ax = _axes(ax)
    for d, day in rates[rates["days_n"] > 0].groupby("weekday"):
        x = day["interval_start_h"].to_numpy(float)
        line, = ax.step(x, day["calls_per_h"], where="post", label=WEEKDAY_NAMES[int(d)], lw=1.2)
        ax.fill_between(x, day["low_per_h"], day["high_per_h"], step="post", color=line.get_color(), alpha=0.15)
        ax.step(x, day["fitted_per_h"], where="post", color=line.get_color(), ls="--", lw=0.8)
    ax.set_xlabel("hour of the day (interval start)")
    ax.set_ylabel("calls per hour (first contacts when repeats are modelled)")
    ax.set_title("Arrival profile by weekday (dashed: one profile × a weekday factor)")
    ax.set_xlim(0, 24)
    ax.legend(ncol=4, fontsize="small")
    return ax


def plot_daily_volumes(daily: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Calls per day against the weekday's mean and the fitted day-to-day spread (``daily_cv``).
    ``daily``: ``date``, ``calls_n``, ``expected_n``, ``low_n``, ``high_n``."""
    ax = _axes(ax)
    x = pd.to_datetime(daily["date"])
    ax.vlines(x, daily["low_n"], daily["high_n"], color="tab:blue", alpha=0.3, lw=3,
              label="fitted spread of a day (gamma busyness + Poisson)")
    ax.plot(x, daily["expected_n"], "_", color="tab:blue", ms=7, label="weekday mean")
    ax.plot(x, daily["calls_n"], "o", color="black", ms=3.5, label="calls that day")
    ax.set_ylabel("calls per day (first contacts when repeats are modelled)")
    ax.set_title("Daily volumes and the fitted day-to-day spread")
    ax.legend(fontsize="small")
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_duration_fit(curves: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Empirical CDF of a duration against every fitted family's (the chosen one thick), log time
    axis. ``curves``: ``time_s``, ``cdf_frac``, ``source``, ``chosen``; ``attrs['name']`` the column."""
    ax = _axes(ax)
    for source, part in curves.groupby("source", sort=False):
        chosen = bool(part["chosen"].iloc[0])
        data = source == "data"
        ax.plot(part["time_s"].clip(lower=0.5), part["cdf_frac"] * 100, color="black" if data else None,
                lw=2.4 if chosen else 1.0, ls="-" if data or chosen else "--",
                label=f"{source}{' (used)' if chosen else ''}", drawstyle="steps-post" if data else "default")
    ax.set_xscale("log")
    ax.set_xlabel(f"{curves.attrs.get('name', 'duration')} (s, log scale)")
    ax.set_ylabel("calls at most this long (%)")
    ax.set_title(f"{curves.attrs.get('name', 'duration')}: the data against the fitted families")
    ax.legend(fontsize="small")
    return ax


def plot_patience_survival(curves: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier survival of patience (with its band) against every fitted family's (the chosen
    one thick). ``curves``: ``time_s``, ``survival_frac``, ``low_frac``, ``high_frac``, ``source``, ``chosen``."""
    ax = _axes(ax)
    for source, part in curves.groupby("source", sort=False):
        if source == "Kaplan–Meier":
            ax.step(part["time_s"], part["survival_frac"] * 100, where="post", color="black", lw=1.6, label=source)
            ax.fill_between(part["time_s"], part["low_frac"] * 100, part["high_frac"] * 100, step="post",
                            color="black", alpha=0.15)
            continue
        chosen = bool(part["chosen"].iloc[0])
        ax.plot(part["time_s"], part["survival_frac"] * 100, lw=2.4 if chosen else 1.0, ls="-" if chosen else "--",
                label=f"{source}{' (used)' if chosen else ''}")
    ax.set_xlabel("seconds waited")
    ax.set_ylabel("callers still willing to wait (%)")
    ax.set_title("Patience: Kaplan–Meier (answered calls censored) against the fitted families")
    ax.set_ylim(0, 101)
    ax.legend(fontsize="small")
    return ax


def plot_staffing(staffing: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Agents per interval of the day, one line per weekday. ``staffing``: ``weekday``,
    ``interval_start_h``, ``agents``; ``attrs['method']`` says where they come from."""
    ax = _axes(ax)
    for d, day in staffing.sort_values("interval_start_h").groupby("weekday"):
        ax.step(day["interval_start_h"], day["agents"], where="post", label=WEEKDAY_NAMES[int(d)], lw=1.2)
    ax.set_xlabel("hour of the day (interval start)")
    ax.set_ylabel("agents")
    ax.set_title(f"Staffing ({staffing.attrs.get('method', 'as given')})")
    ax.set_xlim(0, 24)
    ax.legend(ncol=4, fontsize="small")
    return ax


def png(draw: Callable[[Axes], Axes], size: tuple[float, float] = (8.6, 5.0), dpi: int = 110) -> bytes:
    """PNG bytes of one figure drawn by ``draw(ax)`` (a pyplot-free Figure)."""
    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()

