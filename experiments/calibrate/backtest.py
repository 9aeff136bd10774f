"""The backtest: a scenario simulated over a call log's calendar, its predicted abandonment, ASA and
service level against what the log says happened (docs/calibrate.md, "Backtest").

Each date of the log is simulated on its own, as the last day of a run that starts on the Monday
before it (day 0 of a run is a Monday; the days before are a warm-up, so the date has its own
weekday's demand and opening hours and starts with the queue the night before left). Optionally
the date's own staffing (from the log's agent column, or a file) replaces the scenario's agents,
and its demand is scaled to the date's observed calls. Replication r of date d is replication
``d * reps + r`` of the root seed: dates are independent, the run reproducible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.errors import CallLogError
from experiments.running.executors import Executor, SerialExecutor
from experiments.running.progress import Progress
from models.scenario import Scenario
from models.settings import RunSettings
from sim.replication import simulate

#: per-interval counts, in this order (the ``intervals`` table's columns, docs/results.md)
COUNTS = ("offered_n", "answered_n", "abandoned_n", "answered_in_sl_n", "wait_answered_s")
#: metric -> (numerator, denominator) of COUNTS
METRICS = {"abandon_frac": ("abandoned_n", "offered_n"), "asa_s": ("wait_answered_s", "answered_n"),
           "sl_frac": ("answered_in_sl_n", "offered_n")}
#: the prediction band's level: where one more replication (one more "month as it could have
#: been") falls with this probability
BAND_LEVEL = 0.95


def read_staffing(path: Path, observed: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """Agents per (date, interval_start_h) from a CSV, one row per interval of every observed date."""
    try:
        frame = pd.read_csv(path, parse_dates=["date"])
    except (OSError, ValueError) as exc:
        raise CallLogError(f"{path}: cannot read the staffing: {exc}") from None
    if not {"date", "interval_start_h", "agents"} <= set(frame.columns):
        raise CallLogError(f"{path}: needs columns date, interval_start_h, agents")
    keys = observed[["date", "interval_start_h"]]
    merged = keys.merge(frame, on=["date", "interval_start_h"], how="left")
    if merged["agents"].isna().any() or (merged["agents"] < 0).any():
        row = merged[merged["agents"].isna() | (merged["agents"] < 0)].iloc[0]
        raise CallLogError(f"{path}: no valid agents for {row['date']:%Y-%m-%d} {row['interval_start_h']:g} h "
                           f"({interval_min}-minute intervals)")
    return merged


def observed_counts(log: pd.DataFrame, interval_min: int, threshold_s: float) -> pd.DataFrame:
    """The log's counts (:data:`COUNTS`) per (date, interval_start_h), every interval of its dates."""
    answered = log["outcome"] == "answered"
    rows = pd.DataFrame({
        "date": log["arrival"].dt.normalize(),
        "interval_start_h": (log["arrival"].dt.hour * 60 + log["arrival"].dt.minute) // interval_min * interval_min / 60,
        "offered_n": 1, "answered_n": answered.astype(int), "abandoned_n": (log["outcome"] == "abandoned").astype(int),
        "answered_in_sl_n": (answered & (log["wait_s"] <= threshold_s)).astype(int),
        "wait_answered_s": log["wait_s"].where(answered, 0.0)})
    dates = np.sort(rows["date"].unique())
    grid = pd.MultiIndex.from_product([dates, np.arange(1440 // interval_min) * interval_min / 60],
                                      names=["date", "interval_start_h"])
    return rows.groupby(["date", "interval_start_h"]).sum().reindex(grid, fill_value=0).reset_index()


def _with_staffing(scenario: Scenario, agents: np.ndarray | None, volume: float, weekday: int = 0) -> Scenario:
    """``scenario`` with the available agents per interval (no shrinkage) of the one pool open on
    ``weekday`` (a calibrated scenario has one pool per weekday when its staffing differs by
    weekday), and every call type's demand scaled by ``volume``.

    Mean agents are rounded half up, but an interval with any agent (someone served a call in it)
    keeps at least one: rounding 0.3 to 0 would close the line and make every caller of the
    interval abandon, which the log contradicts."""
    if agents is not None:
        name = open_pools(scenario, weekday)[0]
        whole = tuple(max(int(a + 0.5), 1 if a > 0 else 0) for a in agents)
        scenario = dataclasses.replace(scenario, pools=tuple(
            dataclasses.replace(p, agents=whole, shrinkage_frac=0.0, staffing="client", shift_plan=())
            if p.name == name else p for p in scenario.pools))
    if volume != 1.0:
        scenario = dataclasses.replace(scenario, demand=tuple(
            dataclasses.replace(ct, weekday_factors=tuple(f * volume for f in ct.weekday_factors))
            for ct in scenario.demand))
    return scenario


def expected_calls(scenario: Scenario, weekday: int) -> float:
    """Expected first contacts (calls) of a day of ``weekday`` (0 = Monday) before daily noise."""
    return float(sum(ct.day_rates_per_s(weekday).sum() * scenario.interval_s for ct in scenario.demand))


def _date_counts(scenario: Scenario, settings: RunSettings, rep: int) -> np.ndarray:
    """Counts (:data:`COUNTS`) per interval of the run's last day, summed over pools."""
    intervals = simulate(scenario, settings, rep, check=False).intervals
    last_day = intervals[intervals["day"] == intervals["day"].max()]
    return last_day.groupby("interval")[list(COUNTS)].sum().to_numpy(dtype=float)


@dataclasses.dataclass(frozen=True)
class Backtest:
    """What to simulate: the scenario, the log's dates, and per-date staffing and volume choices.

    Attributes:
        scenario: the scenario backtested (its threshold replaced by the backtest's).
        observed: the log's counts per (date, interval_start_h), see :func:`observed_counts`.
        staffing: agents per (date, interval_start_h) replacing the scenario's (column ``agents``),
            or None for the scenario's own.
        match_volume: scale each date's demand to its observed calls.
    """

    scenario: Scenario
    observed: pd.DataFrame
    staffing: pd.DataFrame | None = None
    match_volume: bool = False

    @property
    def dates(self) -> np.ndarray:
        """The log's dates (datetime64, midnight), in order; dates without calls are not among them."""
        return np.asarray(self.observed["date"].unique())

    def tasks(self, reps: int, seed: int) -> list[tuple[Scenario, RunSettings, int]]:
        """One task per (date, replication): (scenario, settings, replication number)."""
        tasks = []
        for d, date in enumerate(self.dates):
            weekday = int(pd.Timestamp(date).weekday())
            settings = RunSettings(reps=1, seed=seed, days=weekday + 1.0, warmup_h=24.0 * weekday, keep_calls=False)
            agents = None
            if self.staffing is not None:
                agents = self.staffing.loc[self.staffing["date"] == date, "agents"].to_numpy()
            volume = 1.0
            if self.match_volume:
                seen = float(self.observed.loc[self.observed["date"] == date, "offered_n"].sum())
                volume = seen / max(expected_calls(self.scenario, weekday), 1e-9)
            scenario = _with_staffing(self.scenario, agents, volume, weekday)
            tasks += [(scenario, settings, d * reps + r) for r in range(reps)]
        return tasks


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def open_pools(scenario: Scenario, weekday: int) -> list[str]:
    """The pools open on ``weekday`` (0 = Monday), or the only pool of a one-pool scenario."""
    if len(scenario.pools) == 1:
        return [scenario.pools[0].name]
    return [p.name for p in scenario.pools if weekday in p.open_days]


def check_backtest(scenario: Scenario, staffing: pd.DataFrame | None, interval_min: int) -> None:
    """CallLogError (one line) if the staffing cannot replace the scenario's agents."""
    if staffing is None:
        if any(not p.planned for p in scenario.pools):
            raise CallLogError("a pool is staffed by the vendor: give the staffing (--staffing)")
        return
    for weekday in range(7):
        names = open_pools(scenario, weekday)
        if len(names) > 1 or (len(scenario.pools) == 1 and not names):
            raise CallLogError(f"--staffing replaces the agents of the one pool open on each date; on "
                               f"{WEEKDAY_NAMES[weekday]} this scenario has {len(names)} open ({', '.join(names)})")
    if interval_min != scenario.interval_min:
        raise CallLogError(f"the staffing is per {interval_min} min, the scenario's interval is {scenario.interval_min} min")


def simulate_backtest(backtest: Backtest, reps: int, seed: int, executor: Executor | None = None,
                      progress: bool | None = None) -> np.ndarray:
    """Simulated counts, shape (dates, reps, intervals of a day, len(COUNTS))."""
    tasks = backtest.tasks(reps, seed)
    per_day = backtest.scenario.intervals_per_day
    counts = np.zeros((len(backtest.dates), reps, per_day, len(COUNTS)))
    bar = Progress(len(tasks), label="backtest", enabled=progress)
    try:
        for k, result in (executor or SerialExecutor()).run(_date_counts, tasks):
            counts[k // reps, k % reps] = result
            bar.advance()
    finally:
        bar.close()
    return counts


def _metric(counts: np.ndarray, name: str) -> np.ndarray:
    top, bottom = METRICS[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts[..., COUNTS.index(top)] / counts[..., COUNTS.index(bottom)]


def prediction_band(values: np.ndarray, level: float = BAND_LEVEL) -> tuple[float, float]:
    """A ``level`` prediction interval for one more replication from ``values`` (one per replication):
    mean ± t(n-1) · sd · sqrt(1 + 1/n), exact for normal values (a metric summed over many calls is
    close to normal). Quantiles of the replications themselves would cover far less with few of
    them (about 79% with 10, 87% with 20, for a nominal 95%). NaN with fewer than 2 finite values."""
    from scipy import stats

    finite = values[np.isfinite(values)]
    n = len(finite)
    if n < 2:
        return (np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * finite.std(ddof=1) * np.sqrt(1 + 1 / n))
    mean = float(finite.mean())
    return (mean - half, mean + half)


def compare(observed: np.ndarray, simulated: np.ndarray, label: str) -> list[dict[str, object]]:
    """Rows of one group: observed counts (len(COUNTS)) against simulated counts (reps, len(COUNTS))."""
    rows: list[dict[str, object]] = []
    for name in METRICS:
        seen, per_rep = float(_metric(observed, name)), _metric(simulated, name)
        mean = float(np.nanmean(per_rep)) if np.isfinite(per_rep).any() else np.nan
        low, high = prediction_band(per_rep)
        rows.append({"group": label, "metric": name, "observed": seen, "predicted_mean": mean,
                     "predicted_low": float(low), "predicted_high": float(high),
                     "rel_error_frac": (mean - seen) / seen if seen else np.nan,
                     "within": bool(low <= seen <= high),
                     "observed_offered_n": float(observed[0]), "predicted_offered_n": float(simulated[:, 0].mean())})
    return rows


def summarise(observed: pd.DataFrame, counts: np.ndarray,
              group_of: Callable[[pd.Timestamp], str] = lambda d: d.strftime("%Y-%m")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per period and overall, per interval of the day) comparison tables from the counts."""
    dates = pd.DatetimeIndex(observed["date"].unique())
    per_day = counts.shape[2]
    seen = observed[list(COUNTS)].to_numpy(dtype=float).reshape(len(dates), per_day, len(COUNTS))
    groups = pd.Series([group_of(d) for d in dates])
    rows = []
    for label in [*groups.unique(), "overall"]:
        take = np.ones(len(dates), bool) if label == "overall" else (groups == label).to_numpy()
        rows += compare(seen[take].sum(axis=(0, 1)), counts[take].sum(axis=(0, 2)), label)
    by_period = pd.DataFrame(rows).rename(columns={"group": "period"})
    hours = observed["interval_start_h"].to_numpy()[:per_day]
    rows = []
    for i, hour in enumerate(hours):
        rows += [dict(row, group=float(hour)) for row in compare(seen[:, i].sum(axis=0), counts[:, :, i].sum(axis=0), "")]
    by_interval = pd.DataFrame(rows).rename(columns={"group": "interval_start_h"})
    return by_period, by_interval
