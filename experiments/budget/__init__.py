"""The budget over a contract term (``bposim budget``): each (replication, month) simulated on a
sample of days under the scenario's ``[calendar]``, scaled to its calendar month and priced
(docs/budget.md): plan.py (volumes, staffing, escalation), month.py (one month), run.py (the tasks),
tables.py (``budget.csv``), fan.py (the fan chart), output.py (the folder and the text)."""
