"""Means, standard deviations and Student-t confidence intervals across replications."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from experiments.results.tables import STAT_COLUMNS


def t_quantile(df: ArrayLike, level: float = 0.95) -> np.ndarray:
    """The Student-t quantile t(0.5 + level/2, df) of a two-sided ``level`` interval (per ``df``).

    SciPy is imported here, when a first interval is computed, not with this module: a run of one
    replication (no interval) never pays for it.
    """
    from scipy.special import stdtrit  # Student-t quantiles (lighter to import than scipy.stats)

    return np.asarray(stdtrit(df, 0.5 + level / 2))


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
    half = float(t_quantile(n - 1, level)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def summarize(frame: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str],
              level: float = 0.95) -> pd.DataFrame:
    """Tidy summary: one row per combination of ``keys`` (in order of appearance) and metric.

    Columns: the keys, then ``metric, reps_n, mean, sd, ci_low, ci_high``; ``reps_n`` counts the
    replications in which the metric is defined.
    """
    keys = list(keys)
    rows = []
    for group, part in frame.groupby(keys, sort=False, observed=True):
        group = group if isinstance(group, tuple) else (group,)
        for metric in metrics:
            values = part[metric].to_numpy(dtype=float)
            mean, sd, low, high = confidence_interval(values, level)
            rows.append([*group, metric, int((~np.isnan(values)).sum()), mean, sd, low, high])
    return pd.DataFrame(rows, columns=[*keys, "metric", *STAT_COLUMNS])
