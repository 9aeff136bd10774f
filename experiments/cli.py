"""The ``bposim`` command line: its arguments (run, sweep, budget, optimise, pooling, report, offers,
convert, calibrate, backtest, check, erlang) and the entry point; the commands themselves are in experiments/commands.py."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn

from experiments.budget import MAX_MONTHS, SAMPLE_CHOICES
from experiments.commands import COMMANDS
from experiments.errors import CallLogError, ExecutorError, OutputError, StoreMismatchError, UsageError
from models.fields import ScenarioError

# Parsing only: what each command does is in experiments/commands.py, which imports what a command
# needs when it runs (`bposim check` or `--help` need not load pandas, SciPy or Dask).


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line as one :class:`UsageError` line instead of usage text and exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _whole(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


_positive_int, _seed = _whole(1), _whole(0)


def _months(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_MONTHS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_MONTHS}, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def _add_executor(parser: argparse.ArgumentParser) -> None:
    """Where tasks run: ``--jobs N``, ``--scheduler ADDRESS`` or ``--dask-local``, and ``--dask-timeout``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int, help="local worker processes (default: all cores; 1 = in-process)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://host:8786)")
    where.add_argument("--dask-local", action="store_true", help="run on a local Dask cluster (2 worker processes)")
    parser.add_argument("--dask-timeout", type=_number, default=60.0, metavar="S",
                        help="with Dask: give up if no worker has joined after S seconds (default 60)")


def _add_optimise(sub: argparse._SubParsersAction[_Parser]) -> None:
    opt = sub.add_parser("optimise", help="the fewest agents that meet service targets, by simulation",
                         description="Find the cheapest staffing of the varied pools whose metrics meet every "
                                     "target (Erlang A start, search under common random numbers, re-check on "
                                     "fresh replications); write optimised.toml, evaluations.csv, summary.csv.")
    opt.add_argument("scenario", type=Path)
    opt.add_argument("--target", action="append", required=True, metavar="[POOL:|@CLIENT:]METRIC<=|>=VALUE",
                     help="a target, e.g. sl_frac>=0.8, abandon_frac<=0.05, offshore:asa_s<=30, or one client's "
                          "calls over the whole period, @acme:sl_frac>=0.8 (repeatable)")
    opt.add_argument("--vary", action="append", metavar="POOL",
                     help="a pool whose agents are set (default: every pool the client staffs)")
    opt.add_argument("--per-interval", action="store_true", help="meet the targets in every open interval of the day")
    opt.add_argument("--reps", type=_positive_int, default=6, help="replications per evaluation (default 6)")
    opt.add_argument("--days", type=_number, default=5.0, help="horizon in days (default 5)")
    opt.add_argument("--warmup-h", type=_number, default=24.0, help="warm-up hours not counted (default 24)")
    opt.add_argument("--seed", type=_seed, default=12345, help="root seed of the search (default 12345)")
    opt.add_argument("--confidence", type=_number, default=0.95, help="one-sided confidence of each target (default 0.95)")
    opt.add_argument("--simultaneous", action="store_true",
                     help="the confidence holds for every target in every judged interval together (Bonferroni)")
    opt.add_argument("--max-agents", type=_positive_int, default=2000, help="most agents per pool and interval")
    _add_executor(opt)
    opt.add_argument("--out", type=Path, required=True, help="folder for optimised.toml, evaluations.csv, summary.csv "
                     "(and shifts.csv, shift_coverage.csv for pools with shifts, with --per-interval)")


def _client_counts(text: str) -> tuple[int, ...]:
    """``"1,2,3,5,10"``: numbers of clients, each a whole number from 1 to 100, no repeats."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole numbers separated by commas, e.g. 1,2,3,5,10, "
                                         f"got {text!r}") from None
    if any(not 1 <= n <= 100 for n in counts) or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"must be different whole numbers from 1 to 100, got {text!r}")
    return counts


def _add_pooling(sub: argparse._SubParsersAction[_Parser]) -> None:
    pool = sub.add_parser("pooling", help="the vendor's economies of scale: agents and cost per minute for 1..N clients",
                          description="Give the vendor's pool the scenario's own calls and N - 1 copies of them "
                                      "(other clients, independent callers), staff it by the optimiser so that "
                                      "every client meets the targets, and measure agents per client, the vendor's "
                                      "labour per handled minute and the lowest per-minute price for a margin; "
                                      "write pooling.csv, pooling_clients.csv, pooling_reps.csv, "
                                      "pooling_client_reps.csv and pooling.png.")
    pool.add_argument("scenario", type=Path)
    pool.add_argument("--clients", type=_client_counts, default=(1, 2, 3, 5, 10), metavar="N,N,...",
                      help="numbers of clients (default 1,2,3,5,10)")
    pool.add_argument("--target", action="append", required=True, metavar="METRIC<=|>=VALUE",
                      help="every client's target over the measured period: sl_frac, asa_s or abandon_frac (repeatable)")
    pool.add_argument("--policy", choices=("shared", "priority", "dedicated"), default="shared",
                      help="shared: one FCFS queue; priority: our calls first; dedicated: --dedicated agents per "
                           "client, overflow to a shared group (default shared)")
    pool.add_argument("--dedicated", type=_whole(1), default=None, metavar="K",
                      help="with --policy dedicated: each client's own agents (the shared group is optimised)")
    pool.add_argument("--overflow-s", type=_number, default=0.0, metavar="S",
                      help="with --policy dedicated: wait before a call may go to the shared group (default 0)")
    pool.add_argument("--pool", help="the vendor's pool (default: the scenario's only bpo pool)")
    pool.add_argument("--vendor-wage-per-h", type=_number, default=None,
                      help="the vendor's wage per agent-hour (default: the pool's vendor_wage_per_h)")
    pool.add_argument("--margin", type=_number, default=0.2, help="the vendor's margin on revenue for the price (default 0.2)")
    pool.add_argument("--reps", type=_positive_int, default=4, help="replications (default 4)")
    pool.add_argument("--days", type=_number, default=3.0, help="horizon in days (default 3)")
    pool.add_argument("--warmup-h", type=_number, default=24.0, help="warm-up hours not counted (default 24)")
    pool.add_argument("--seed", type=_seed, default=12345, help="root seed (default 12345)")
    pool.add_argument("--confidence", type=_number, default=0.95, help="one-sided confidence of each target (default 0.95)")
    pool.add_argument("--max-agents", type=_positive_int, default=2000, help="most agents of the searched pool")
    _add_executor(pool)
    pool.add_argument("--out", type=Path, required=True, help="folder for the tables and pooling.png")


def _add_budget(sub: argparse._SubParsersAction[_Parser]) -> None:
    budget = sub.add_parser("budget", help="the monthly bill over a contract term: median, P95, fan chart",
                            description="Price a scenario month by month over a term of calendar months (its "
                                        "[calendar] table: seasons, growth, forecast error; contract escalation), "
                                        "each month simulated on a sample of days and scaled to the month.")
    budget.add_argument("scenario", type=Path)
    budget.add_argument("--months", type=_months, default=12, help="budget months (default 12, at most 120)")
    budget.add_argument("--reps", type=_positive_int, default=20, help="replications (default 20)")
    budget.add_argument("--days-per-month", choices=SAMPLE_CHOICES, default="7",
                        help="days simulated per month after a 3-day warm-up (default 7, one of each weekday; "
                             "full = the calendar month's days)")
    budget.add_argument("--seed", type=_seed, default=12345, help="root seed (default 12345)")
    _add_executor(budget)
    budget.add_argument("--out", type=Path, help="folder for budget_months.parquet, budget.csv, fan.png, meta.json")


def _add_sweep(sub: argparse._SubParsersAction[_Parser]) -> None:
    sweep = sub.add_parser("sweep", help="run every scenario of a sweep file; resumable",
                           description="Run every scenario of a sweep file for its replications. Each finished "
                                       "task is saved in --out at once; running the same command again resumes.")
    sweep.add_argument("sweep", type=Path, help="sweep file (TOML)")
    sweep.add_argument("--reps", type=_positive_int, help="replications (default: the file's, else 10)")
    sweep.add_argument("--seed", type=_seed, help="root seed (default: the file's, else 12345)")
    sweep.add_argument("--days", type=_number, help="horizon in days (default: the file's, else 7)")
    sweep.add_argument("--warmup-h", type=_number, help="warm-up hours not counted (default: the file's, else 0)")
    _add_executor(sweep)
    sweep.add_argument("--no-calls", action="store_true", help="do not keep the per-call table")
    sweep.add_argument("--out", type=Path, required=True, help="folder for task files and result tables")


def _add_convert(sub: argparse._SubParsersAction[_Parser]) -> None:
    convert = sub.add_parser("convert", help="convert a call center's own records to the tidy call log",
                             description="Read raw call records (the Anonymous Bank format: FILE... plain or .gz) "
                                         "and write the tidy call log of docs/calibrate.md; print what was read, "
                                         "kept and dropped, and why.")
    convert.add_argument("source_format", metavar="FORMAT", choices=["anonymous-bank"], help="anonymous-bank")
    convert.add_argument("files", metavar="FILE", nargs="+", type=Path, help="raw files, read in this order")
    convert.add_argument("--out", type=Path, required=True, help="the call log: .csv, .csv.gz or .parquet")
    convert.add_argument("--from", dest="first_day", type=_day, metavar="DAY",
                         help="keep calls that reached the queue on or after DAY (YYYY-MM-DD)")
    convert.add_argument("--to", dest="last_day", type=_day, metavar="DAY",
                         help="keep calls that reached the queue on or before DAY (YYYY-MM-DD)")
    convert.add_argument("--keep-vru-only", action="store_true",
                         help="keep hang-ups in the voice menu as abandoned after 0 s (not for calibrating patience)")


def _add_calibrate(sub: argparse._SubParsersAction[_Parser]) -> None:
    cal = sub.add_parser("calibrate", help="estimate a scenario from a call log (CSV): scenario.toml, estimates, figures",
                         description="Estimate arrivals, handle time, patience, first-contact resolution and "
                                     "redials from a tidy call log; write DIR/scenario.toml, DIR/estimates.csv "
                                     "and figures (docs/calibrate.md).")
    cal.add_argument("log", type=Path, help="tidy call log (CSV): arrival, outcome, wait_s, handle_s, ...")
    cal.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the scenario, estimates, figures")
    cal.add_argument("--interval-min", type=_positive_int, default=30, help="interval of the profile (default 30)")
    cal.add_argument("--staffing", type=Path, metavar="STAFF.csv",
                     help="agents per weekday and interval (columns weekday, interval_start_h, agents)")
    cal.add_argument("--repeat-window-days", type=_number, default=7.0,
                     help="a customer's call within this many days of an answered call's end is a repeat (default 7)")
    cal.add_argument("--redial-window-h", type=_number, default=24.0,
                     help="a customer's call within this many hours of an abandonment is a redial (default 24)")
    cal.add_argument("--retrials", choices=("auto", "model", "demand"), default="auto",
                     help="repeats and redials in the scenario as bposim's model, or in the demand profile; "
                          "auto: model if agents are on all week (default)")
    cal.add_argument("--profile", choices=("auto", "separable", "weekday"), default="auto",
                     help="one profile × weekday factors, or each weekday its own profile; auto: separable "
                          "unless the weekdays' shapes differ (default)")


def _add_backtest(sub: argparse._SubParsersAction[_Parser]) -> None:
    bt = sub.add_parser("backtest", help="a scenario against a call log: predicted vs observed service",
                        description="Simulate the scenario over the call log's dates (each date as itself, with "
                                    "replications) and compare predicted with observed abandonment, ASA and service "
                                    "level per month, overall and by interval of the day; write backtest.csv, "
                                    "backtest_by_interval.csv and figures.")
    bt.add_argument("log", type=Path, help="tidy call log (CSV, docs/calibrate.md)")
    bt.add_argument("scenario", type=Path)
    bt.add_argument("--reps", type=_positive_int, default=20, help="replications per date (default 20)")
    bt.add_argument("--seed", type=_seed, default=12345, help="root seed (default 12345)")
    bt.add_argument("--threshold-s", type=_number, help="service level threshold (default: the scenario's)")
    bt.add_argument("--staffing", metavar="estimate|FILE.csv",
                    help="agents per date and interval instead of the scenario's: 'estimate' (from the log's agent "
                         "column) or a CSV of date, interval_start_h, agents (one-pool scenarios)")
    bt.add_argument("--match-volume", action="store_true", help="scale each date's demand to its observed calls")
    _add_executor(bt)
    bt.add_argument("--out", type=Path, required=True, help="folder for backtest.csv, backtest_by_interval.csv, PNGs")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bposim", description="Call-center outsourcing simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a scenario and print its summary")
    run.add_argument("scenario", type=Path)
    run.add_argument("--reps", type=_positive_int, default=10, help="replications (default 10)")
    run.add_argument("--seed", type=_seed, default=12345, help="root seed (default 12345)")
    run.add_argument("--days", type=_number, default=7.0, help="horizon in days (default 7)")
    run.add_argument("--warmup-h", type=_number, default=0.0, help="warm-up hours not counted (default 0)")
    run.add_argument("--jobs", type=_positive_int, help="local worker processes (default: all cores; 1 = in-process)")
    run.add_argument("--no-calls", action="store_true", help="do not keep the per-call table")
    run.add_argument("--out", type=Path, help="folder for the result tables")
    _add_sweep(sub)
    _add_budget(sub)
    _add_optimise(sub)
    _add_pooling(sub)
    _add_convert(sub)
    _add_backtest(sub)
    report = sub.add_parser("report", help="write the plotted HTML report of a results folder or a sweep file")
    report.add_argument("source", type=Path, help="results folder (from sweep or run --out), or a sweep file to run first")
    report.add_argument("--out", type=Path, default=Path("outputs/report"), help="report folder (default outputs/report)")
    report.add_argument("--results", type=Path, help="with a sweep file: where its results go (default outputs/<name>)")
    report.add_argument("--jobs", type=_positive_int, help="with a sweep file: worker processes (default: all cores)")
    report.add_argument("--pooling", type=Path, metavar="DIR",
                        help="a bposim pooling folder: adds the section 'Why the vendor can be cheaper'")
    offers = sub.add_parser("offers", help="price saved results under other contracts, without simulating again",
                            description="Price the saved results of a run or sweep under every offer of an offers "
                                        "file (TOML), beside the contracts as simulated; print the table and write "
                                        "offers.csv.")
    offers.add_argument("results", type=Path, help="results folder (from run or sweep --out)")
    offers.add_argument("offers", type=Path, help="offers file (TOML): [[offer]] tables of name, pool and contract")
    offers.add_argument("--out", type=Path, help="folder for offers.csv (default: the results folder)")
    _add_calibrate(sub)
    check = sub.add_parser("check", help="validate a scenario file, or a call log, without running it")
    check.add_argument("scenario", type=Path, metavar="FILE",
                       help="a scenario (.toml) or a call log (.csv, .csv.gz, .parquet; docs/calibrate.md)")
    calc = sub.add_parser("erlang", help="analytic Erlang C / A / M/M/c/K figures")
    calc.add_argument("--calls-per-h", type=_number, required=True)
    calc.add_argument("--handle-s", type=_number, required=True, help="mean handle time (s)")
    group = calc.add_mutually_exclusive_group(required=True)
    group.add_argument("--agents", type=_positive_int)
    group.add_argument("--target-sl", type=_number, help="service level target (0..1): find the agents")
    calc.add_argument("--threshold-s", type=_number, default=20.0, help="service level threshold (default 20)")
    calc.add_argument("--patience-s", type=_number, help="mean patience (s): Erlang A")
    calc.add_argument("--lines", type=_positive_int, help="max calls in system: M/M/c/K")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; user mistakes end with one line on stderr and exit status 2."""
    try:
        args = _parser().parse_args(argv)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader gone early (bposim erlang | head) shows here, not at exit
        return code
    except BrokenPipeError:
        # Whoever read the output stopped reading: end quietly. Stdout goes to /dev/null so that
        # the interpreter's last flush does not complain about the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ScenarioError, OutputError, UsageError, StoreMismatchError, ExecutorError, CallLogError) as exc:
        print(f"bposim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bposim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
