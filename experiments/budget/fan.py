"""The budget's fan chart: the monthly bill's median with its 50% and 90% bands, month by month.

:func:`plot_fan` draws one money column on ``ax`` and returns it (never shows or saves);
:func:`fan_png` renders the total bill and the BPO invoices alone, one above the other, as PNG
bytes with a pyplot-free Figure (no global state, any backend).
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from experiments.budget.tables import FAN_BANDS, fan_table

#: (column, title) of the two panels of fan.png
PANELS = (("total_cost", "Total monthly bill: labour + invoices + overhead + cost of poor service"),
          ("invoice_cost", "BPO invoices alone"))


def plot_fan(rows: pd.DataFrame, ax: Axes, column: str = "total_cost", title: str = "", currency: str = "") -> Axes:
    """Median (line) and the 50% and 90% bands over replications of ``column`` per budget month,
    x labelled by calendar month. ``rows``: the ``budget_months`` table."""
    fan = fan_table(rows, column)
    x = fan["month"].to_numpy()
    for (low, high), alpha in zip(FAN_BANDS, (0.18, 0.35), strict=True):
        share = high - low
        ax.fill_between(x, fan[f"p{low:g}"], fan[f"p{high:g}"], color="C0", alpha=alpha, linewidth=0,
                        label=f"{share:g}% of replications (P{low:g}–P{high:g})")
    ax.plot(x, fan["p50"], color="C0", marker="o", ms=4, label="median")
    ax.set_xticks(x, fan["label"].tolist())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(title or column)
    ax.set_ylabel(f"per calendar month ({currency})" if currency else "per calendar month")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", framealpha=0.85)
    return ax


def fan_png(rows: pd.DataFrame, currency: str = "", name: str = "", dpi: int = 110) -> bytes:
    """The two panels of ``fan.png`` (total bill, invoices alone) as PNG bytes."""
    fig = Figure(figsize=(9.0, 8.0), layout="constrained")
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    for ax, (column, title) in zip(axes, PANELS, strict=True):
        plot_fan(rows, ax, column, title, currency)
    if name:
        fig.suptitle(f"Budget of {name}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
