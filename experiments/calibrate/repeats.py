"""First-contact resolution, repeat delay and redials, from the customer ids of a tidy call log.

Each customer's calls are taken in order of arrival; a call's *successor* is the customer's next
call. bposim's model (docs/scenarios.md) maps onto that chain:

- an **answered** call is unresolved with probability 1 − ``resolution_frac`` and then comes back
  as a repeat ``repeat_after`` after the *end* of its service (arrival + wait + handle): here, an
  answered call whose successor arrives within ``repeat_window_s`` of its end had a repeat;
- an **abandoned** attempt is followed, with probability ``redial.frac``, by a redial ``redial.after``
  after the abandonment (arrival + wait), up to ``max_attempts`` attempts: here, an abandoned call
  whose successor arrives within ``redial_window_s`` had a redial, and a call's attempt number
  counts the redials before it.

The share of calls followed within the window is biased low for calls near the end of the log
(the successor may come after it) and the window cuts the delays' tail; both are handled by
fitting a *cure model* by censored maximum likelihood (experiments/calibrate/families.py): a call
never comes back with probability p (resolved, or a caller who gives up), else after a delay of a
fitted family; a call with no successor is censored at min(window, end of log − its end).
``resolution_frac`` is p for answered calls, ``redial.frac`` is 1 − p for abandoned attempts below
the largest attempt number seen, which is ``max_attempts``. Only calls with a customer id are
fitted (a call without one may have been followed by anything). Calls that are neither repeats nor
redials are the first contacts, whose arrivals make the demand profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.calibrate.families import Fit, best_fit
from experiments.calibrate.patience import kaplan_meier

REPEAT_WINDOW_S = 7 * 86400.0
REDIAL_WINDOW_S = 86400.0
MIN_DELAY_S = 1.0  # a successor arriving before the call ended (a second line) counts as 1 s later


@dataclass(frozen=True)
class Chains:
    """Each call's place in its customer's chain (arrays aligned with the log's rows).

    Attributes:
        gap_s: seconds from the call's end to its customer's next arrival (NaN: none in the log).
        observable_s: how long after its end the log still shows calls (s).
        is_repeat, is_redial: the call is a repeat of an answered call / a redial of an abandoned one.
        attempt: 1 for a first try, k for the (k − 1)-th redial of a contact.
    """

    gap_s: np.ndarray
    observable_s: np.ndarray
    is_repeat: np.ndarray
    is_redial: np.ndarray
    attempt: np.ndarray

    @property
    def first_contact(self) -> np.ndarray:
        """Calls that are neither repeats nor redials."""
        out: np.ndarray = ~(self.is_repeat | self.is_redial)
        return out


@dataclass(frozen=True)
class ChainFits:
    """Cure-model fits of the repeats and redials (``None`` where there were fewer than 2).

    Attributes:
        repeat: fit of the repeat delays of answered calls; ``cure_frac`` is the resolution.
        redial: fit of the redial delays of abandoned attempts; 1 − ``cure_frac`` is ``frac``.
        max_attempts: largest attempt number seen.
        chains: every call's place in its chain.
        repeat_within, redial_within: (share, low, high) of answered calls followed within the repeat
            window, of abandoned attempts (below ``max_attempts``) within the redial window, by
            Kaplan–Meier (no family): a check of the cure fits (:meth:`fitted_within`).
        repeat_window_s, redial_window_s: the windows (s).
    """

    repeat: Fit | None
    redial: Fit | None
    max_attempts: int
    chains: Chains
    repeat_within: tuple[float, float, float]
    redial_within: tuple[float, float, float]
    repeat_window_s: float
    redial_window_s: float

    def fitted_within(self, which: str) -> float:
        """The share followed within the window by the cure fit: (1 − cure) × F(window)."""
        fit, window = (self.repeat, self.repeat_window_s) if which == "repeat" else (self.redial, self.redial_window_s)
        if fit is None:
            return math.nan
        return float((1 - fit.cure_frac) * (1 - fit.sf(np.array([window]))[0]))


def has_customers(log: pd.DataFrame) -> bool:
    """Whether the log has customer ids to follow."""
    return "customer_id" in log.columns and bool(log["customer_id"].notna().any())


def link_chains(log: pd.DataFrame, repeat_window_s: float = REPEAT_WINDOW_S,
                redial_window_s: float = REDIAL_WINDOW_S) -> Chains:
    """Place every call of ``log`` (rows in any order) in its customer's chain; a missing
    ``customer_id`` makes a call a customer of its own."""
    n = len(log)
    arrival = (log["arrival"] - log["arrival"].dt.normalize().min()).dt.total_seconds().to_numpy()
    wait = log["wait_s"].to_numpy(float)
    answered = (log["outcome"] == "answered").to_numpy()
    end = arrival + wait + np.where(answered, np.nan_to_num(log["handle_s"].to_numpy(float)), 0.0)
    log_end = float(np.ceil(arrival.max() / 86400.0 + 1e-12) * 86400.0)
    ids = log["customer_id"] if "customer_id" in log.columns else pd.Series(np.nan, index=log.index)
    key = np.where(ids.isna(), "\0row" + pd.Series(np.arange(n).astype(str), index=log.index), ids.astype(str))
    order = np.lexsort((arrival, key))
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = key[order][1:] == key[order][:-1]
    gap = np.full(n, np.nan)
    nxt = np.full(n, -1)
    nxt[order[:-1][same_next[:-1]]] = order[1:][same_next[:-1]]
    has = nxt >= 0
    gap[has] = np.maximum(arrival[nxt[has]] - end[has], MIN_DELAY_S)
    window = np.where(answered, repeat_window_s, redial_window_s)
    followed = has & (gap <= window)
    is_repeat, is_redial = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    is_repeat[nxt[followed & answered]] = True
    is_redial[nxt[followed & ~answered]] = True
    return Chains(np.where(followed, gap, np.nan), np.minimum(window, np.maximum(log_end - end, 0.0)),
                  is_repeat, is_redial, _attempts(is_redial, order))


def _attempts(is_redial: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Attempt numbers: 1 + the redials just before each call in its chain (``order``: chain order)."""
    redial = is_redial[order]
    run = np.cumsum(~redial)
    start = np.flatnonzero(~redial)
    position = np.arange(len(redial)) - start[np.maximum(run - 1, 0)]
    attempt = np.empty(len(redial), dtype=np.int64)
    attempt[order] = position + 1
    return attempt


def fit_chains(log: pd.DataFrame, level: float = 0.95, repeat_window_s: float = REPEAT_WINDOW_S,
               redial_window_s: float = REDIAL_WINDOW_S) -> ChainFits:
    """Cure-model fits of repeats (after answered calls) and redials (after abandoned attempts)."""
    chains = link_chains(log, repeat_window_s, redial_window_s)
    known = log["customer_id"].notna().to_numpy() if "customer_id" in log.columns else np.zeros(len(log), dtype=bool)
    answered = (log["outcome"] == "answered").to_numpy()
    max_attempts = int(chains.attempt.max()) if len(chains.attempt) else 1
    can_redial = ~answered & (chains.attempt < max_attempts)
    repeats, redials = answered & known, can_redial & known
    return ChainFits(_cure_fit(chains, repeats, level), _cure_fit(chains, redials, level), max_attempts, chains,
                     _within(chains, repeats, repeat_window_s, level), _within(chains, redials, redial_window_s, level),
                     repeat_window_s, redial_window_s)


def _within(chains: Chains, rows: np.ndarray, window_s: float, level: float) -> tuple[float, float, float]:
    """Kaplan–Meier share of ``rows`` followed within ``window_s``, with its interval."""
    gap = chains.gap_s[rows]
    seen = np.isfinite(gap)
    if not seen.any():
        return 0.0, math.nan, math.nan
    km = kaplan_meier(gap[seen], chains.observable_s[rows][~seen], level)
    last = km[km["time_s"] <= window_s].iloc[-1]
    return 1 - float(last["survival_frac"]), 1 - float(last["high_frac"]), 1 - float(last["low_frac"])


def _cure_fit(chains: Chains, rows: np.ndarray, level: float) -> Fit | None:
    gap = chains.gap_s[rows]
    seen = np.isfinite(gap)
    if seen.sum() < 2:
        return None
    censored = chains.observable_s[rows][~seen]
    return best_fit(gap[seen], censored[censored > 0], cure=True, level=level)[0]
