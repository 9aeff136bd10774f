"""The pooling study's tables, text and files (docs/pooling.md).

Money per replication first (``pooling_reps.csv``), then means with 95% Student-t intervals over
replications (``pooling.csv``), so every figure recomputes by hand from the per-replication table:
labour per handled minute = ``labour_cost / handled_min``; the lowest per-minute price at which the
vendor keeps a margin m of its revenue = ``labour_per_min_cost / (1 - m)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from experiments.optimise.output import agents_text
from experiments.pooling.study import Point, Study
from experiments.results.statistics import confidence_interval
from experiments.running.files import write_csv

#: one row per number of clients (docs/pooling.md)
POOLING_COLUMNS = ["scenario", "pool", "targets", "clients_n", "policy", "staffing", "paid_agents_n", "agents_per_client",
                   "occupancy_frac",
                   "handled_min_per_client", "labour_per_min_cost", "labour_per_min_low", "labour_per_min_high",
                   "price_per_min_cost", "price_per_min_low", "price_per_min_high", "margin_frac",
                   "worst_client", "worst_sl_frac", "worst_asa_s", "worst_abandon_frac", "evaluations_n"]


def pooling_table(points: Sequence[Point], study: Study, margin: float) -> pd.DataFrame:
    """Per number of clients: agents, occupancy, labour and the price for ``margin``, with intervals."""
    rows = []
    for p in points:
        reps = p.reps
        labour = confidence_interval(reps["labour_per_min_cost"].to_numpy(dtype=float))
        price = confidence_interval(reps["labour_per_min_cost"].to_numpy(dtype=float) / (1.0 - margin))
        agents = float(reps["paid_agents_n"].mean())
        worst = _worst_client(p.clients)
        rows.append([study.scenario.name, study.sharing.pool, "; ".join(study.targets), p.clients_n,
                     study.sharing.policy, agents_text(p.staffing), agents, agents / p.clients_n,
                     float(reps["busy_s"].sum() / reps["staffed_s"].sum()),
                     float(reps["handled_min"].mean()) / p.clients_n, labour[0], labour[2], labour[3],
                     price[0], price[2], price[3], margin, *worst, p.evaluations_n])
    return pd.DataFrame(rows, columns=POOLING_COLUMNS)


def _worst_client(clients: pd.DataFrame) -> list[object]:
    """The client with the lowest mean service level, and its mean SL, ASA and abandonment."""
    means = clients.groupby("client")[["sl_frac", "asa_s", "abandon_frac"]].mean()
    name = str(means["sl_frac"].idxmin())
    return [name, *(float(means.loc[name, m]) for m in ("sl_frac", "asa_s", "abandon_frac"))]


def clients_summary(points: Sequence[Point]) -> pd.DataFrame:
    """Per (number of clients, client): mean service and its 95% interval over replications."""
    rows = []
    for p in points:
        for client, part in p.clients.groupby("client", sort=False):
            row: list[object] = [p.clients_n, client]
            for metric in ("sl_frac", "asa_s", "abandon_frac"):
                mean, _, low, high = confidence_interval(part[metric].to_numpy(dtype=float))
                row += [mean, low, high]
            rows.append(row)
    columns = ["clients_n", "client"] + [f"{m}{s}" for m in ("sl_frac", "asa_s", "abandon_frac")
                                         for s in ("", "_low", "_high")]
    return pd.DataFrame(rows, columns=columns)


def write_pooling(points: Sequence[Point], study: Study, margin: float, out: Path) -> pd.DataFrame:
    """Write pooling.csv, pooling_clients.csv, pooling_reps.csv and pooling_client_reps.csv; return
    the pooling table."""
    table = pooling_table(points, study, margin)
    write_csv(pd.concat([p.reps for p in points], ignore_index=True), out / "pooling_reps.csv")
    write_csv(pd.concat([p.clients for p in points], ignore_index=True), out / "pooling_client_reps.csv")
    write_csv(clients_summary(points), out / "pooling_clients.csv")
    write_csv(table, out / "pooling.csv")
    return table


def format_pooling(table: pd.DataFrame, currency: str, targets: Sequence[str]) -> str:
    """The study as a text table: one line per number of clients."""
    margin = float(table["margin_frac"].iloc[0]) if len(table) else 0.0
    lines = [f"every client staffed to {', '.join(targets)} (policy {table['policy'].iloc[0] if len(table) else ''});"
             f" {currency} per handled minute, mean [95% interval]",
             f"{'clients':>7} {'agents':>8} {'per client':>10} {'occupancy':>9} {'labour/min':>24} "
             f"{f'price/min at {margin:.0%} margin':>26} {'worst client SL':>15}"]
    for r in table.itertuples():
        lines.append(f"{r.clients_n:>7} {r.paid_agents_n:>8.1f} {r.agents_per_client:>10.2f} "
                     f"{r.occupancy_frac:>9.1%} {_ci(r.labour_per_min_cost, r.labour_per_min_low, r.labour_per_min_high):>24} "
                     f"{_ci(r.price_per_min_cost, r.price_per_min_low, r.price_per_min_high):>26} "
                     f"{r.worst_sl_frac:>15.1%}")
    return "\n".join(lines)


def read_pooling(folder: Path) -> pd.DataFrame:
    """``folder/pooling.csv`` as written by :func:`write_pooling`; OutputError (one line) if it is
    missing, unreadable or lacks a column."""
    from experiments.errors import OutputError

    path = Path(folder) / "pooling.csv"
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: cannot read the pooling study ({type(exc).__name__}): run bposim pooling "
                          f"... --out {folder} first") from None
    missing = [c for c in POOLING_COLUMNS if c not in table.columns]
    if missing or table.empty:
        raise OutputError(f"{path}: not a pooling table of this version (missing {', '.join(missing) or 'rows'}): "
                          "run bposim pooling again")
    return table.sort_values("clients_n", ignore_index=True)


def _ci(mean: float, low: float, high: float) -> str:
    return f"{mean:.4f} [{low:.4f}-{high:.4f}]"
