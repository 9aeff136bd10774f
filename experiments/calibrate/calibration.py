"""A tidy call log → every estimate with its interval, and the scenario that uses them.

:func:`calibrate` runs the estimators (arrivals.py, handle.py, patience.py, repeats.py), takes the
staffing as given or from the staffing estimator, and returns a :class:`Calibration`: the fits
(for the figures), the ``estimates`` table (one row per estimate: ``name``, ``value``, ``low``,
``high``, ``unit``, ``method``) and the scenario table (scenario_writer.py). Nothing is written here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.calibrate.arrivals import Arrivals, estimate_arrivals
from experiments.calibrate.families import Fit
from experiments.calibrate.handle import DurationFit, fit_handle
from experiments.calibrate.patience import PatienceFit, fit_patience
from experiments.calibrate.repeats import REDIAL_WINDOW_S, REPEAT_WINDOW_S, ChainFits, fit_chains, has_customers
from experiments.calibrate.scenario_writer import WEEKDAYS, scenario_table, staffing_by_weekday
from experiments.errors import CallLogError
from models.distributions import Empirical

REQUIRED = ("arrival", "outcome", "wait_s", "handle_s")
ESTIMATE_COLUMNS = ["name", "value", "low", "high", "unit", "method"]
RETRIALS = ("auto", "model", "demand")
PROFILES = ("auto", "separable", "weekday")


@dataclass(frozen=True)
class Calibration:
    """What a call log calibrates to.

    Attributes:
        arrivals, durations, patience, chains: the fits (``patience`` None without abandonment,
            ``chains`` None without customer ids).
        staffing: agents per (weekday, interval) as used (``weekday``, ``interval_start_h``, ``agents``).
        estimates: one row per estimate (``ESTIMATE_COLUMNS``).
        scenario: the scenario table (TOML), runnable as it is.
        level: confidence level of every interval.
    """

    arrivals: Arrivals
    durations: list[DurationFit]
    patience: PatienceFit | None
    chains: ChainFits | None
    staffing: pd.DataFrame
    estimates: pd.DataFrame
    scenario: dict[str, Any]
    level: float


def calibrate(log: pd.DataFrame, staffing: pd.DataFrame | None = None, interval_min: int = 30, level: float = 0.95,
              name: str = "calibrated", repeat_window_s: float = REPEAT_WINDOW_S,
              redial_window_s: float = REDIAL_WINDOW_S, retrials: str = "auto", profile: str = "auto") -> Calibration:
    """Calibrate a scenario from a tidy call log (docs/calibrate.md).

    ``staffing``: agents per (weekday, interval start in hours); when None, estimated from the log
    by experiments.calibrate.staffing.estimate_staffing. ``level``: of every interval (0.95).
    ``retrials``: how the scenario carries repeats and redials (:data:`RETRIALS`): ``model``
    (first-contact resolution, repeat delay and redials; the profile from first contacts only),
    ``demand`` (none of them; the profile from every call, so it holds them at the times of day
    they really came), or ``auto``: ``model`` when agents are on every interval of the week, else
    ``demand`` (bposim's repeats and redials come back after their delay whatever the clock, so in
    a center that closes some would land in closed hours and be lost, where real callers wait for
    the opening); ``model`` also needs customer ids on :data:`MIN_ID_FRAC` of the calls and a log a
    week longer than the windows (:func:`_modelled`). Their estimates are in the table either way. ``profile``: ``separable`` (one
    profile × weekday factors), ``weekday`` (each weekday its own profile) or ``auto``: separable
    unless the weekdays' shapes differ (:attr:`Arrivals.separable`).
    """
    if profile not in PROFILES:
        raise CallLogError(f"profile: must be one of {', '.join(PROFILES)}, got {profile!r}")
    if 1440 % interval_min:
        raise CallLogError(f"interval_min: must divide a day of 1440 minutes (e.g. 15, 30, 60), got {interval_min}")
    if retrials not in RETRIALS:
        raise CallLogError(f"retrials: must be one of {', '.join(RETRIALS)}, got {retrials!r}")
    check_columns(log)
    if staffing is None:
        staffing = _estimated_staffing(log, interval_min)
    agents = staffing_by_weekday(staffing, interval_min)
    chains = fit_chains(log, level, repeat_window_s, redial_window_s) if has_customers(log) else None
    modelled = _modelled(log, chains, retrials, bool(agents.all()), max(repeat_window_s, redial_window_s))
    first = _first_contacts(log, chains, max(repeat_window_s, redial_window_s)) if modelled else log["arrival"]
    arrivals = estimate_arrivals(first, interval_min, level)
    durations = fit_handle(log, level)
    patience = fit_patience(log, level)
    estimates = pd.concat([_arrival_rows(arrivals, modelled), _duration_rows(durations, level),
                           _patience_rows(patience), _chain_rows(chains), _observed_rows(log, level),
                           _staffing_rows(staffing), _retrial_row(chains, modelled, retrials)], ignore_index=True)
    by_weekday = profile == "weekday" or (profile == "auto" and not arrivals.separable)
    table = scenario_table(name, arrivals, durations, patience, chains if modelled else None, agents,
                           by_weekday=by_weekday)
    return Calibration(arrivals, durations, patience, chains, staffing, estimates[ESTIMATE_COLUMNS], table, level)


#: retrials are modelled only when at least this share of calls carries a customer id: the fitted
#: repeat and redial rates then describe (almost) every caller, not only the identified ones
MIN_ID_FRAC = 0.95


def _modelled(log: pd.DataFrame, chains: ChainFits | None, retrials: str, always_open: bool, window_s: float) -> bool:
    """Whether the scenario carries repeats and redials as bposim's model (see :func:`calibrate`).

    ``model`` is refused in one line (``auto`` falls back to ``demand``) when fewer than
    :data:`MIN_ID_FRAC` of the calls have a customer id (the unidentified ones would be taken as
    first contacts and then repeat at the identified ones' rate: far too many calls), or when the
    log is not a week longer than the window (its first window is cut, below)."""
    if retrials == "demand" or (retrials == "auto" and not always_open):
        return False
    ids = float(log["customer_id"].notna().mean()) if "customer_id" in log.columns else 0.0
    days = (log["arrival"].max() - log["arrival"].min()).total_seconds() / 86400.0
    problem = ("the log has no customer ids" if chains is None else
               f"only {ids:.0%} of the calls have a customer id (needs {MIN_ID_FRAC:.0%})" if ids < MIN_ID_FRAC else
               f"the log covers {days:.1f} days: needs a week beyond the {window_s / 86400:g}-day window"
               if days < window_s / 86400.0 + 7.0 else "")
    if problem and retrials == "model":
        raise CallLogError(f"retrials = model: {problem}; use --retrials demand")
    return not problem


def _first_contacts(log: pd.DataFrame, chains: ChainFits | None, window_s: float) -> pd.Series:
    """Arrivals of the first contacts, after the log's first ``window_s``: earlier, a customer's
    repeat or redial of a call made before the log began looks like a first contact."""
    assert chains is not None
    arrival = log.loc[chains.chains.first_contact, "arrival"]
    return arrival[arrival >= log["arrival"].min().normalize() + pd.Timedelta(seconds=window_s)]


def check_columns(log: pd.DataFrame) -> None:
    """CallLogError (one line) unless the log has the required columns with sensible values (the
    log reader checks more; this is what the estimators rely on)."""
    missing = [c for c in REQUIRED if c not in log.columns]
    if missing:
        raise CallLogError(f"call log: missing column(s) {', '.join(missing)}; needs {', '.join(REQUIRED)}")
    if log.empty:
        raise CallLogError("call log: no calls")
    if not pd.api.types.is_datetime64_any_dtype(log["arrival"]) or log["arrival"].isna().any():
        raise CallLogError("call log: arrival must be date-times (e.g. 1999-01-04 07:12:30) on every row")
    answered, abandoned = log["outcome"] == "answered", log["outcome"] == "abandoned"
    wait = pd.to_numeric(log["wait_s"], errors="coerce")
    handle = pd.to_numeric(log["handle_s"], errors="coerce")
    for bad, what in ((~(answered | abandoned), "outcome must be answered or abandoned"),
                      (~(wait >= 0), "wait_s must be a number >= 0"),
                      (answered & ~(handle >= 0), "handle_s must be a number >= 0 on an answered call"),
                      (abandoned & handle.notna(), "handle_s must be empty on an abandoned call")):
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise CallLogError(f"call log: row {row + 1}: {what}")
    if not answered.any():
        raise CallLogError("call log: no answered call")


def _estimated_staffing(log: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    from experiments.calibrate.staffing import estimate_staffing

    return estimate_staffing(log, interval_min)


def _row(name: str, value: float, low: float = math.nan, high: float = math.nan, unit: str = "",
         method: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "low": low, "high": high, "unit": unit, "method": method}


def _slot(hours: float) -> str:
    return f"{int(hours):02d}:{round(hours % 1 * 60):02d}"


def _arrival_rows(a: Arrivals, first_only: bool) -> pd.DataFrame:
    which = "first contacts (repeats and redials left out)" if first_only else "every call"
    rows = [_row(f"arrival_rate.{WEEKDAYS[r.weekday]}.{_slot(r.interval_start_h)}", r.calls_per_h, r.low_per_h,
                 r.high_per_h, "calls/h", f"{which}: count / days of the weekday; Poisson interval widened "
                 "by the daily busyness") for r in a.rates.itertuples() if r.days_n > 0]
    rows += [_row(f"profile_per_h.{_slot(k * a.interval_min / 60)}", v, unit="calls/h",
                  method="Poisson MLE of profile × weekday factor (the scenario's profile)")
             for k, v in enumerate(a.profile_per_h)]
    rows += [_row(f"weekday_factor.{WEEKDAYS[d]}", v, unit="", method="Poisson MLE, mean 1 over the weekdays")
             for d, v in enumerate(a.weekday_factors)]
    rows.append(_row("profile.shape_tv", a.shape_tv, unit="",
                     method="largest total-variation distance of a weekday's profile shape from the common one"))
    rows.append(_row("profile.shape_pvalue", a.shape_pvalue, unit="",
                     method="chi-square test that every weekday has the same profile shape"))
    rows.append(_row("daily_cv", a.daily_cv, a.daily_cv_low, a.daily_cv_high, "",
                     "method of moments on daily totals per weekday beyond Poisson; parametric bootstrap"))
    return pd.DataFrame(rows)


def _fit_rows(prefix: str, fit: Fit, method: str) -> list[dict[str, Any]]:
    """``<prefix>.mean_s`` and (unless exponential) ``<prefix>.cv``; the family starts ``method``."""
    method = f"{fit.family}: {method}"
    rows = [_row(f"{prefix}.mean_s", fit.mean_s, fit.mean_low_s, fit.mean_high_s, "s", method)]
    if fit.family != "exponential":
        rows.append(_row(f"{prefix}.cv", fit.cv, fit.cv_low, fit.cv_high, "", method))
    return rows


def _duration_rows(durations: list[DurationFit], level: float) -> pd.DataFrame:
    rows = []
    z = stats.norm.ppf(0.5 + level / 2)
    for d in durations:
        prefix = d.name.removesuffix("_s")
        if isinstance(d.distribution, Empirical):
            x = d.values_s
            mean, half = float(np.mean(x)), z * float(np.std(x, ddof=1)) / math.sqrt(len(x))
            rows.append(_row(f"{prefix}.mean_s", mean, mean - half, mean + half, "s", d.method))
            rows.append(_row(f"{prefix}.cv", float(np.std(x) / mean) if mean > 0 else math.nan,
                             unit="", method=d.method))
        else:
            rows += _fit_rows(prefix, d.best, d.method)
        rows.append(_row(f"{prefix}.data_mean_s", float(np.mean(d.values_s)), unit="s", method="sample mean"))
    return pd.DataFrame(rows)


def _patience_rows(p: PatienceFit | None) -> pd.DataFrame:
    if p is None:
        return pd.DataFrame([_row("patience", math.inf, unit="s", method="no call abandoned: never")])
    aics = ", ".join(f"{f.family} {f.aic:.1f}" for f in p.fits)
    rows = _fit_rows("patience", p.best, f"censored maximum likelihood, least AIC ({aics})")
    km = p.km
    median = _km_quantile(km, "survival_frac"), _km_quantile(km, "low_frac"), _km_quantile(km, "high_frac")
    rows.append(_row("patience.km_median_s", median[0], median[1], median[2], "s",
                     "Kaplan–Meier (answered calls' waits censored); interval from the log(-log) band"))
    rows.append(_row("patience.naive_mean_s", p.naive_mean_s, unit="s", method=
                     "mean wait of abandoners only: BIASED LOW (ignores the answered callers), not used"))
    return pd.DataFrame(rows)


def _km_quantile(km: pd.DataFrame, column: str, q: float = 0.5) -> float:
    below = km.loc[km[column] <= q, "time_s"]
    return float(below.iloc[0]) if len(below) else math.inf


def _chain_rows(c: ChainFits | None) -> pd.DataFrame:
    if c is None:
        return pd.DataFrame([_row("resolution_frac", 1.0, unit="frac", method="no customer_id: no repeats")])
    rows = []
    if c.repeat is not None:
        f = c.repeat
        rows.append(_row("resolution_frac", f.cure_frac, f.cure_low, f.cure_high, "frac",
                         "cure model: share of answered calls with no repeat ever (censored MLE)"))
        rows += _fit_rows("repeat_after", f, "delay from a call's end to the customer's next call")
    if c.redial is not None:
        f = c.redial
        rows.append(_row("redial.frac", 1 - f.cure_frac, 1 - f.cure_high, 1 - f.cure_low, "frac",
                         "cure model: share of abandoned attempts redialled (below max_attempts)"))
        rows += _fit_rows("redial.after", f, "delay from an abandonment to the customer's next call")
    rows.append(_row("redial.max_attempts", float(c.max_attempts), unit="n", method="largest attempt number seen"))
    for which, (value, low, high) in (("repeat", c.repeat_within), ("redial", c.redial_within)):
        rows.append(_row(f"{which}.within_window_frac", value, low, high, "frac",
                         f"Kaplan–Meier, no family (the cure fit says {c.fitted_within(which):.4f})"))
    return pd.DataFrame(rows)


def _retrial_row(chains: ChainFits | None, modelled: bool, retrials: str) -> pd.DataFrame:
    if chains is None:
        why = "no customer_id: every call is a first contact"
    elif modelled:
        why = f"--retrials {retrials}: resolution_frac, repeat_after and redial in the scenario"
    else:
        why = (f"--retrials {retrials}: the center closes, so repeats and redials are left in the demand "
               "profile (bposim's would land in closed hours); their estimates are above")
    return pd.DataFrame([_row("retrials_in_scenario", float(modelled), unit="", method=why)])


def _observed_rows(log: pd.DataFrame, level: float) -> pd.DataFrame:
    n = len(log)
    abandoned = int((log["outcome"] == "abandoned").sum())
    alpha = 1 - level
    low = stats.beta.ppf(alpha / 2, abandoned, n - abandoned + 1) if abandoned else 0.0
    high = stats.beta.ppf(1 - alpha / 2, abandoned + 1, n - abandoned) if abandoned < n else 1.0
    answered = log.loc[log["outcome"] == "answered", "wait_s"]
    return pd.DataFrame([
        _row("observed.calls_n", float(n), unit="n", method="rows of the log"),
        _row("observed.abandon_frac", abandoned / n, float(low), float(high), "frac", "Clopper–Pearson"),
        _row("observed.asa_s", float(answered.mean()), unit="s", method="mean wait of answered calls"),
    ])


def _staffing_rows(staffing: pd.DataFrame) -> pd.DataFrame:
    method = str(staffing.attrs.get("method", "as given (--staffing)"))
    return pd.DataFrame([_row(f"agents.{WEEKDAYS[int(r.weekday)]}.{_slot(float(r.interval_start_h))}", float(r.agents),
                              unit="n", method=method) for r in staffing.itertuples()])
