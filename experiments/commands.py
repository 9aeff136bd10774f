"""What each ``bposim`` command does, once experiments/cli.py has parsed its arguments.

Each ``cmd_*`` takes the parsed arguments and returns the exit status; a user's mistake is raised
as :class:`~experiments.errors.UsageError` (or the loader's ``ScenarioError``), which the command
line prints as one line with exit status 2. The commands import what they need when they run:
`bposim check` or `--help` need not load pandas, SciPy or Dask, and worker processes that import
this module start quickly.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from experiments.errors import CallLogError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from experiments.running.executors import Executor
    from models.settings import RunSettings


def executor_of(args: argparse.Namespace, tasks: int | None = None) -> Executor:
    """The executor the options of experiments/cli.py's ``_add_executor`` ask for."""
    from experiments.running.executors import make_executor

    return make_executor(args.jobs, args.scheduler, args.dask_local, tasks=tasks, dask_timeout_s=args.dask_timeout)


def _settings_or_usage_error(make: Callable[[], RunSettings], points: Sequence[Any]) -> RunSettings:
    """Run settings that fit every point, or a UsageError naming the setting (one line)."""
    from experiments.running.tasks import check_points

    try:
        settings = make()
        check_points(points, settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return settings


def _warn_about_warmup(points: Sequence[Any], settings: RunSettings) -> None:
    """One line on stderr if the warm-up is too short for repeats and redials to build up."""
    from models.warmup import warmup_warning

    line = warmup_warning(dict.fromkeys(p.scenario for p in points), settings.warmup_h)
    if line is not None:
        print(f"bposim: warning: {line}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from experiments.results.folder import write_results
    from experiments.results.runner import as_points, run
    from experiments.results.text import format_pools
    from experiments.running.executors import make_executor
    from experiments.running.files import ensure_writable
    from models.loading import load_scenario
    from models.settings import RunSettings

    scenario = load_scenario(args.scenario)
    settings = _settings_or_usage_error(lambda: RunSettings(
        reps=args.reps, seed=args.seed, days=args.days, warmup_h=args.warmup_h, keep_calls=not args.no_calls),
        as_points(scenario))
    if args.out is not None:
        ensure_writable(args.out)  # before simulating: a bad folder costs nothing
    _warn_about_warmup(as_points(scenario), settings)
    with make_executor(args.jobs, tasks=settings.reps) as executor:
        result = run(scenario, settings, executor=executor)
    print(format_pools(result))
    if args.out is not None:
        write_results(result, args.out)
        print(f"\nTables written to {args.out}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from experiments.optimise.search import NoStaffing
    from experiments.results.runner import run
    from experiments.results.text import format_scenarios
    from experiments.study.sweep_file import load_sweep

    sweep = load_sweep(args.sweep)
    settings = _settings_or_usage_error(lambda: sweep.settings(
        reps=args.reps, seed=args.seed, days=args.days, warmup_h=args.warmup_h,
        keep_calls=False if args.no_calls else None), sweep.points)
    with executor_of(args) as executor:
        _warn_about_warmup(sweep.points, settings)  # once the executor stands: an error there stays one line
        try:
            result = run(sweep.points, settings, executor=executor, out=args.out, name=sweep.name)
        except NoStaffing as exc:  # an equal-service point or a vendor plan no staffing can serve
            raise UsageError(f"{args.sweep}: {exc}") from None
    tasks = result.meta["tasks"]
    for sid, rep, reason in tasks["recomputed"]:
        print(f"bposim: warning: {sid} rep {rep}: {reason}; recomputed", file=sys.stderr)
    print(format_scenarios(result, sweep.name))
    if result.optimised is not None:
        staffed = result.optimised.drop_duplicates("scenario_id")
        print(f"\n{len(staffed)} point(s) staffed at equal service by the optimiser "
              f"({int(staffed['evaluations_n'].sum())} staffings, {staffed['simulated_days'].sum():,.0f} simulated "
              f"days; optimised.csv); the least sure target on a fresh re-check: "
              f"{100 * staffed['recheck_min_sure_frac'].min():.1f}%")
    print(f"\n{tasks['computed']} task(s) computed on {tasks['executor']}, {tasks['loaded']} loaded; "
          f"tables written to {args.out}/")
    return 0


def cmd_budget(args: argparse.Namespace) -> int:
    from experiments.budget.output import budget_meta, calendar_line, format_budget, write_budget
    from experiments.budget.run import run_budget
    from experiments.budget.tables import budget_table
    from experiments.running.files import ensure_writable
    from models.loading import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out is not None:
        ensure_writable(args.out)  # before simulating: a bad folder costs nothing
    print(calendar_line(scenario))
    start = time.perf_counter()
    with executor_of(args, tasks=args.reps * args.months) as executor:
        rows = run_budget(scenario, args.months, args.reps, args.days_per_month, args.seed, executor)
        where = executor.description
    table = budget_table(rows, scenario)
    seconds = time.perf_counter() - start
    print(format_budget(table, scenario.currency))
    print(f"\n{args.reps * args.months} month(s) simulated ({args.days_per_month} days each after a warm-up) on "
          f"{where} in {seconds:.0f} s")
    if args.out is not None:
        settings = {"months": args.months, "reps": args.reps, "days_per_month": args.days_per_month,
                    "seed": args.seed, "seconds": round(seconds, 1)}
        write_budget(args.out, rows, table, scenario, budget_meta(scenario, settings, where))
        print(f"Budget written to {args.out}/ (budget_months.parquet, budget.csv, fan.png, meta.json)")
    return 0


def cmd_optimise(args: argparse.Namespace) -> int:
    from experiments.optimise.output import format_outcome, write_outputs
    from experiments.optimise.search import Problem, optimise
    from experiments.optimise.shift_output import format_shifts, write_shift_outputs
    from experiments.optimise.shifts import plan_shifts
    from experiments.optimise.targets import parse_targets
    from experiments.optimise.vendor import vendor_planned
    from experiments.results.runner import as_points
    from experiments.running.files import ensure_writable
    from models.loading import load_scenario
    from models.settings import RunSettings

    scenario = load_scenario(args.scenario)
    try:
        targets, vary = parse_targets(args.target, args.vary, scenario, per_interval=args.per_interval)
        if not 0.5 <= args.confidence < 1:
            raise ValueError(f"--confidence must be >= 0.5 and < 1, got {args.confidence:g}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = _settings_or_usage_error(lambda: RunSettings(
        reps=args.reps, seed=args.seed, days=args.days, warmup_h=args.warmup_h, keep_calls=False), as_points(scenario))
    ensure_writable(args.out)
    problem = Problem(scenario, targets, vary, settings, args.per_interval, args.confidence, args.max_agents,
                      simultaneous=args.simultaneous)
    if not args.per_interval and any(scenario.pool(name).shifts for name in vary):
        print("bposim: warning: shift templates are planned with --per-interval only; without it the varied "
              "pools get a flat schedule", file=sys.stderr)
    with executor_of(args, tasks=settings.reps) as executor:
        problem = vendor_planned(problem, executor)  # once, at the client's starting staffing
        try:
            outcome = optimise(problem, executor, progress=None)
            shifted = plan_shifts(problem, outcome, executor, progress=None)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    files = "optimised.toml, evaluations.csv, summary.csv"
    outcome = outcome if shifted is None else shifted.outcome
    write_outputs(problem, outcome, args.out, None if shifted is None else shifted.scenario)
    if shifted is not None:
        write_shift_outputs(shifted, args.out)
        files += ", shifts.csv, shift_coverage.csv"
    print(format_outcome(outcome))
    if shifted is not None:
        print(format_shifts(shifted))
    print(f"\n{len(outcome.log)} staffings simulated; written to {args.out}/ ({files})")
    return 0


def cmd_pooling(args: argparse.Namespace) -> int:
    from experiments.pooling.build import pooled
    from experiments.pooling.output import format_pooling, write_pooling
    from experiments.pooling.study import run_study
    from experiments.report.pooling_plots import pooling_png
    from experiments.results.runner import as_points
    from experiments.running.files import ensure_writable, write_bytes

    study = _pooling_study(args)
    _settings_or_usage_error(lambda: study.settings, as_points(pooled(study.scenario, study.sharing, max(study.clients))))
    ensure_writable(args.out)
    with executor_of(args, tasks=len(study.clients)) as executor:
        try:
            points = run_study(study, executor, progress=None)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    table = write_pooling(points, study, args.margin, args.out)
    write_bytes(pooling_png(table, study.scenario.currency), args.out / "pooling.png")
    print(format_pooling(table, study.scenario.currency, study.targets))
    print(f"\nwritten to {args.out}/ (pooling.csv, pooling_clients.csv, pooling_reps.csv, pooling_client_reps.csv, "
          "pooling.png)")
    return 0


def _pooling_study(args: argparse.Namespace) -> Any:
    """The pooling study the options ask for; UsageError (one line) if they do not fit the scenario."""
    from experiments.pooling.build import Sharing, vendor_pool, with_vendor_wage
    from experiments.pooling.study import Study, check_targets
    from models.loading import load_scenario
    from models.settings import RunSettings

    scenario = load_scenario(args.scenario)
    try:
        if args.vendor_wage_per_h is not None:
            scenario = with_vendor_wage(scenario, args.pool, args.vendor_wage_per_h)
        pool = vendor_pool(scenario, args.pool)
        if args.policy == "dedicated" and args.dedicated is None:
            raise ValueError("--policy dedicated needs --dedicated K: each client's own agents (the shared group "
                             "is optimised)")
        if args.policy != "dedicated" and args.dedicated is not None:
            raise ValueError(f"--dedicated K goes with --policy dedicated, not {args.policy}")
        if not 0 <= args.margin < 1:
            raise ValueError(f"--margin must be a fraction >= 0 and < 1, got {args.margin:g}")
        if not 0.5 <= args.confidence < 1:
            raise ValueError(f"--confidence must be >= 0.5 and < 1, got {args.confidence:g}")
        settings = RunSettings(reps=args.reps, seed=args.seed, days=args.days, warmup_h=args.warmup_h, keep_calls=False)
        study = Study(scenario, Sharing(pool.name, args.policy, args.dedicated or 0, args.overflow_s),
                      tuple(args.clients), tuple(args.target), settings, args.confidence, args.max_agents)
        check_targets(study)
        return study
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    from experiments.report.page import write_report
    from experiments.results.folder import read_results
    from experiments.results.offers import read_offers
    from experiments.results.runner import run
    from experiments.running.executors import make_executor
    from experiments.study.sweep_file import load_sweep

    folder = args.source
    if folder.suffix == ".toml":
        sweep = load_sweep(folder)
        folder = args.results or Path("outputs") / folder.stem
        settings = _settings_or_usage_error(lambda: sweep.settings(keep_calls=False), sweep.points)
        _warn_about_warmup(sweep.points, settings)
        with make_executor(args.jobs) as executor:
            run(sweep.points, settings, executor=executor, out=folder, name=sweep.name)
    pooling = None
    if args.pooling is not None:
        from experiments.pooling.output import read_pooling

        pooling = read_pooling(args.pooling)
    path = write_report(read_results(folder), args.out, offers=read_offers(folder), pooling=pooling)
    print(f"Report written to {path}")
    return 0


def cmd_offers(args: argparse.Namespace) -> int:
    from experiments.results.folder import read_results
    from experiments.results.offers import OFFERS_CSV, offers_table
    from experiments.results.text import format_offers
    from experiments.running.files import write_csv
    from models.offers import load_offers

    result = read_results(args.results)
    if not result.points:
        raise UsageError(f"{args.results}: the scenarios of these results are not available (a scenario file "
                         "changed or is gone since the run); run it again to price offers")
    pools = {p.name: p.kind for point in result.points for p in point.scenario.pools}
    offers = load_offers(args.offers, pools, {p.scenario.currency for p in result.points})
    try:
        table = offers_table(result, offers)
    except ValueError as exc:
        raise UsageError(f"{args.offers}: {exc}") from None
    out = args.out if args.out is not None else args.results
    write_csv(table, out / OFFERS_CSV)
    print(format_offers(result, table, args.offers.name))
    print(f"\nOffers written to {out / OFFERS_CSV}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    import dataclasses

    from experiments.calibrate import backtest as bt
    from experiments.calibrate.staffing import estimate_staffing_by_date
    from experiments.report.backtest_plots import backtest_figure
    from experiments.running.files import ensure_writable, write_bytes, write_csv
    from models.loading import load_scenario

    scenario = load_scenario(args.scenario)
    from experiments.calibrate.log import read_call_log

    log = read_call_log(args.log)
    threshold = scenario.service_level_s if args.threshold_s is None else args.threshold_s
    scenario = dataclasses.replace(scenario, service_level_s=threshold)
    observed = bt.observed_counts(log, scenario.interval_min, threshold)
    staffing = None
    if args.staffing == "estimate":
        staffing = estimate_staffing_by_date(log, scenario.interval_min)
        print(f"staffing estimated from the agent column: {staffing.attrs['method']}")
    elif args.staffing is not None:
        staffing = bt.read_staffing(args.staffing, observed, scenario.interval_min)
    bt.check_backtest(scenario, staffing, scenario.interval_min)
    ensure_writable(args.out)
    backtest = bt.Backtest(scenario, observed, staffing, args.match_volume)
    start = time.perf_counter()
    with executor_of(args, tasks=args.reps * len(backtest.dates)) as executor:
        counts = bt.simulate_backtest(backtest, args.reps, args.seed, executor)
        where = executor.description
    by_period, by_interval = bt.summarise(observed, counts)
    write_csv(by_period, args.out / "backtest.csv")
    write_csv(by_interval, args.out / "backtest_by_interval.csv")
    write_bytes(backtest_figure(by_interval), args.out / "backtest_by_interval.png")
    print(by_period.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\n{len(backtest.dates)} date(s) x {args.reps} replication(s) simulated on {where} in "
          f"{time.perf_counter() - start:.0f} s; written to {args.out}/ (backtest.csv, backtest_by_interval.csv, "
          "backtest_by_interval.png)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    if args.scenario.name.lower().endswith((".csv", ".csv.gz", ".parquet")):  # calibrate.log's SUFFIXES
        return _check_call_log(args.scenario)
    from models.loading import load_scenario

    scenario = load_scenario(args.scenario)
    pools = ", ".join(f"{p.name} ({p.kind}, {p.location})" for p in scenario.pools)
    print(f"{args.scenario}: ok: {scenario.name!r}, {len(scenario.demand)} call type(s), pools {pools}")
    return 0


def _check_call_log(path: Path) -> int:
    from experiments.calibrate.log import read_call_log

    log = read_call_log(path)
    days = log["arrival"].dt.normalize()
    answered = int((log["outcome"] == "answered").sum())
    print(f"{path}: ok: {len(log):,} calls ({answered:,} answered, {len(log) - answered:,} abandoned) on "
          f"{days.nunique()} days, {days.min():%Y-%m-%d} to {days.max():%Y-%m-%d}")
    return 0


def cmd_erlang(args: argparse.Namespace) -> int:
    from models import erlang

    rate = args.calls_per_h / 3600.0
    if rate <= 0 or args.handle_s <= 0:
        raise UsageError("--calls-per-h and --handle-s must be > 0")
    if args.target_sl is not None and not 0 < args.target_sl < 1:
        raise UsageError(f"--target-sl must be between 0 and 1, got {args.target_sl}")
    try:
        agents = args.agents or erlang.agents_for_service_level(
            rate, args.handle_s, args.target_sl, args.threshold_s, args.patience_s, args.lines)
        m = erlang.queue_metrics(rate, args.handle_s, agents, args.threshold_s, args.patience_s, args.lines)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"agents              {m.servers}")
    print(f"load                {m.load_erlangs:.3f} Erlangs")
    print(f"P(wait)             {m.p_wait_frac:.4f}")
    print(f"service level       {m.service_level_frac:.4f}  (answered within {m.threshold_s:g} s / offered)")
    print(f"ASA                 {m.asa_s:.2f} s")
    print(f"abandonment         {m.abandon_frac:.4f}")
    print(f"blocked             {m.blocked_frac:.4f}")
    print(f"occupancy           {m.occupancy_frac:.4f}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from experiments.calibrate.anonymous_bank import convert_anonymous_bank
    from experiments.calibrate.log import log_kind, write_call_log

    log_kind(args.out)  # a bad suffix fails before reading
    if args.first_day and args.last_day and args.first_day > args.last_day:
        raise UsageError(f"--from {args.first_day} is after --to {args.last_day}")
    frame, report = convert_anonymous_bank(args.files, keep_vru_only=args.keep_vru_only,
                                           first_day=args.first_day, last_day=args.last_day)
    if frame.empty:
        raise CallLogError(f"{', '.join(map(str, args.files))}: no call to write: {report.nothing_kept()}")
    write_call_log(frame, args.out)  # checked first, then written atomically: a bad log leaves no file
    print("\n".join(report.lines()))
    print(f"\nCall log written to {args.out}")
    return 0


def _read_staffing(path: Path) -> pd.DataFrame:
    """A staffing CSV: ``weekday`` (0 = Monday), ``interval_start_h``, ``agents``."""
    import pandas as pd

    from experiments.errors import CallLogError

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CallLogError(f"{path}: file not found") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CallLogError(f"{path}: {str(exc).splitlines()[0]}") from None
    frame.attrs["method"] = f"as given ({path.name})"
    return frame


def cmd_calibrate(args: argparse.Namespace) -> int:
    from functools import partial

    import tomli_w

    from experiments.calibrate.calibration import calibrate
    from experiments.calibrate.handle import duration_curves
    from experiments.calibrate.log import read_call_log
    from experiments.calibrate.patience import survival_curves
    from experiments.calibrate.scenario_writer import header
    from experiments.report import calibration_plots as plots
    from experiments.running.files import ensure_writable, write_bytes, write_csv

    log = read_call_log(args.log)
    staffing = _read_staffing(args.staffing) if args.staffing is not None else None
    ensure_writable(args.out)
    cal = calibrate(log, staffing, args.interval_min, name=f"calibrated from {args.log.name}",
                    repeat_window_s=args.repeat_window_days * 86400.0, redial_window_s=args.redial_window_h * 3600.0,
                    retrials=args.retrials, profile=args.profile)
    text = header(args.log.name, cal.level) + tomli_w.dumps(cal.scenario)
    write_bytes(text.encode("utf-8"), args.out / "scenario.toml")
    write_csv(cal.estimates, args.out / "estimates.csv")
    figures = {"arrival_profile": lambda ax: plots.plot_arrival_profile(cal.arrivals.rates, ax),
               "daily_volumes": lambda ax: plots.plot_daily_volumes(cal.arrivals.daily, ax),
               "staffing": lambda ax: plots.plot_staffing(cal.staffing, ax)}
    for fit in cal.durations:
        figures[f"{fit.name.removesuffix('_s')}_fit"] = partial(plots.plot_duration_fit, duration_curves(fit))
    if cal.patience is not None:
        patience = survival_curves(cal.patience)
        figures["patience_survival"] = lambda ax: plots.plot_patience_survival(patience, ax)
    for name, draw in figures.items():
        write_bytes(plots.png(draw), args.out / f"{name}.png")
    shown = cal.estimates[~cal.estimates["name"].str.startswith(("arrival_rate.", "profile_per_h.", "agents."))]
    print(shown.to_string(index=False, columns=["name", "value", "low", "high", "unit"], float_format="{:.4g}".format))
    print(f"wrote {args.out / 'scenario.toml'}, estimates.csv and {len(figures)} figures")
    return 0


COMMANDS = {"run": cmd_run, "sweep": cmd_sweep, "budget": cmd_budget, "optimise": cmd_optimise, "pooling": cmd_pooling,
            "report": cmd_report, "offers": cmd_offers, "check": cmd_check, "erlang": cmd_erlang,
            "convert": cmd_convert, "calibrate": cmd_calibrate, "backtest": cmd_backtest}
