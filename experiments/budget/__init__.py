"""The budget over a contract term (``bposim budget``): each (replication, month) simulated on a
sample of days under the scenario's ``[calendar]``, scaled to its calendar month and priced
(docs/budget.md): plan.py (volumes, staffing, escalation), month.py (one month), run.py (the tasks),
tables.py (``budget.csv``), fan.py (the fan chart), output.py (the folder and the text)."""

# The command line's limits, here so that building its parser imports nothing heavy.
#: longest budget (months); below plan.MONTH_STRIDE so that no two (rep, month) share a replication
MAX_MONTHS = 120
#: the allowed samples of days per month ("full" = the calendar month's days)
SAMPLE_CHOICES = ("7", "14", "21", "28", "full")
