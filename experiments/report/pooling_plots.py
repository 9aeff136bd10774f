"""Figures of the pooling study (experiments/pooling): the vendor's economies of scale.

``plot_*`` functions draw on ``ax`` (a new figure when ``None``), return the Axes and never show or
save; :func:`pooling_png` gives the two panels of ``pooling.png``. Bars are 95% Student-t intervals
over replications.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when asked for a new figure

    _, ax = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
    return ax


def plot_agents_per_client(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Paid agents per client against the number of clients (the pooling table of experiments/pooling/output.py)."""
    ax = _axes(ax)
    ax.plot(table["clients_n"], table["agents_per_client"], marker="o", color="C0")
    for r in table.itertuples():
        ax.annotate(f"{r.agents_per_client:.1f}", (r.clients_n, r.agents_per_client), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize="small")
    ax.set_xlabel("clients sharing the vendor's agents")
    ax.set_ylabel("paid agents per client")
    ax.set_title("Agents per client, each client at its target")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    return ax


def plot_cost_per_minute(table: pd.DataFrame, ax: Axes | None = None, currency: str = "") -> Axes:
    """The vendor's labour per handled minute and the lowest price for its margin, with intervals."""
    ax = _axes(ax)
    margin = float(table["margin_frac"].iloc[0]) if len(table) else 0.0
    for stem, label, color in (("labour_per_min", "vendor's labour", "C1"),
                               ("price_per_min", f"lowest price for a {margin:.0%} margin", "C2")):
        mean = table[f"{stem}_cost"]
        err = [mean - table[f"{stem}_low"], table[f"{stem}_high"] - mean]
        ax.errorbar(table["clients_n"], mean, yerr=err, marker="o", capsize=3, color=color, label=label)
    ax.set_xlabel("clients sharing the vendor's agents")
    ax.set_ylabel(f"per handled minute ({currency})" if currency else "per handled minute")
    ax.set_title("What a handled minute costs the vendor")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def pooling_png(table: pd.DataFrame, currency: str = "", dpi: int = 110) -> bytes:
    """The two panels of ``pooling.png`` as PNG bytes."""
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_agents_per_client(table, left)
    plot_cost_per_minute(table, right, currency)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
