"""The report's "Why the vendor can be cheaper" section, from a pooling study (docs/pooling.md).

Pure text and a table from ``pooling.csv`` (experiments/pooling/output.py) plus its figure: how
many agents per client the vendor needs as it serves more clients like us, what a handled minute
then costs it, and the lowest price per minute that keeps its margin.
"""

from __future__ import annotations

import re

import pandas as pd

from experiments.report.html import Block, Figure, Note, Paragraph, Section, Table, png_data_uri
from experiments.report.pooling_plots import pooling_png
from experiments.report.sections import with_ci


def pooling_section(table: pd.DataFrame, currency: str) -> tuple[Section, bytes]:
    """The section and the PNG of its figure (``pooling.png``)."""
    png = pooling_png(table, currency)
    figure = Figure("fig-pooling", png_data_uri(png), "Agents per client and cost per handled minute against clients",
                    "The vendor's economies of scale",
                    "Left: paid agents per client when every client meets the targets. Right: the vendor's labour per "
                    "handled minute and the lowest price per minute for its margin, with 95% intervals over "
                    "replications.")
    blocks: tuple[Block, ...] = (Paragraph(summary_text(table, currency)), figure, _table(table, currency),
                                 Note(_caveat(table)))
    return Section("pooling", "Why the vendor can be cheaper", blocks), png


def summary_text(table: pd.DataFrame, currency: str) -> str:
    """Two sentences comparing the fewest and the most clients of the study."""
    one, most = table.iloc[0], table.iloc[-1]
    fewer = 1.0 - most["agents_per_client"] / one["agents_per_client"]
    return (f"One vendor center answering the calls of clients like us ({one['scenario']}, pool {one['pool']}: copies "
            f"of our calls with other callers), each client staffed to {one['targets']}: with {int(one['clients_n'])} "
            f"client{'s' * (int(one['clients_n']) > 1)} it pays {one['agents_per_client']:.1f} agents per client, with "
            f"{int(most['clients_n'])} clients {most['agents_per_client']:.1f} ({fewer:.0%} fewer), as independent "
            f"peaks rarely coincide. Its labour per handled minute is {one['labour_per_min_cost']:.3f} {currency} "
            f"with {int(one['clients_n'])} and {most['labour_per_min_cost']:.3f} with {int(most['clients_n'])}, and "
            f"the lowest price per minute that keeps a {one['margin_frac']:.0%} margin "
            f"{one['price_per_min_cost']:.3f} and {most['price_per_min_cost']:.3f} (intervals below): scale, "
            "besides its wages, is how its price can be below our own cost of answering the calls.")


def _table(table: pd.DataFrame, currency: str) -> Table:
    headers = ["clients", "agents paid", "per client", "occupancy", f"labour per minute ({currency})",
               f"price per minute for the margin ({currency})", "worst client's SL"]
    rows = [[int(r.clients_n), f"{r.paid_agents_n:.1f}", f"{r.agents_per_client:.2f}", f"{r.occupancy_frac:.1%}",
             with_ci(r.labour_per_min_cost, r.labour_per_min_low, r.labour_per_min_high, ".3f"),
             with_ci(r.price_per_min_cost, r.price_per_min_low, r.price_per_min_high, ".3f"),
             f"{r.worst_sl_frac:.1%}"] for r in table.itertuples()]
    return Table.of(headers, rows, numeric=range(7))


def missed(table: pd.DataFrame) -> list[int]:
    """The numbers of clients whose worst client's mean service level on the measured replications
    is below an ``sl_frac>=`` target of the study (the search's replications were too few to be sure)."""
    found = re.search(r"(?:^|;\s*)sl_frac\s*>=\s*([0-9.]+)", str(table["targets"].iloc[0]))
    if found is None:
        return []
    return [int(r.clients_n) for r in table.itertuples() if r.worst_sl_frac < float(found[1])]


def _caveat(table: pd.DataFrame) -> str:
    policy = str(table["policy"].iloc[0])
    short = missed(table)
    warning = (f"On the measured replications the worst client's service level is below the target with "
               f"{', '.join(map(str, short))} clients: the staffing was searched on other replications, too few "
               "to be sure of it (busy days move service a lot at high occupancy); run the study with more "
               "--reps or --days. " if short else "")
    return (warning + f"Sharing policy: {policy}. Every client is staffed to the targets over the whole measured period, judged "
            "on its own calls. The other clients are copies of us: clients with longer calls or other peaks share their "
            "waiting with ours (docs/pooling.md shows how pooling unlike calls hurts the short ones), and the "
            "price ignores billing increments, fees and overheads beyond loaded labour: a floor, not a quote.")
