"""Means, standard deviations and confidence intervals across replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # Student-t quantiles (lighter to import than scipy.stats)

SUMMARY_COLUMNS = ["group", "metric", "reps_n", "mean", "sd", "ci_low", "ci_high"]


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, low, high): Student-t interval of the mean of independent replications.

    NaN values (e.g. ASA of a replication with no answered call) are left out; with fewer than two
    values the interval is NaN.
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return (np.nan,) * 4
    mean = float(values.mean())
    if n < 2:
        return mean, np.nan, np.nan, np.nan
    sd = float(values.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + level / 2)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def summarize_frame(frame: pd.DataFrame, group_col: str, metrics: list[str],
                    level: float = 0.95) -> pd.DataFrame:
    """Tidy summary: one row per (group, metric) of per-replication values in ``frame``."""
    rows = []
    for group, part in frame.groupby(group_col, sort=False, observed=True):
        for metric in metrics:
            values = part[metric].to_numpy(dtype=float)
            mean, sd, low, high = confidence_interval(values, level)
            rows.append([group, metric, int((~np.isnan(values)).sum()), mean, sd, low, high])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def summarize_by(frame: pd.DataFrame, keys: list[str], metrics: list[str],
                 level: float = 0.95) -> pd.DataFrame:
    """Tidy summary: one row per combination of ``keys`` (in order of appearance) and metric.

    Columns: the keys, then ``metric, reps_n, mean, sd, ci_low, ci_high``.
    """
    rows = []
    for group, part in frame.groupby(keys, sort=False, observed=True):
        group = group if isinstance(group, tuple) else (group,)
        for metric in metrics:
            values = part[metric].to_numpy(dtype=float)
            mean, sd, low, high = confidence_interval(values, level)
            rows.append([*group, metric, int((~np.isnan(values)).sum()), mean, sd, low, high])
    return pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS[1:]])
