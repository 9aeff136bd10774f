"""Staffing optimisation by simulation: the cheapest agents that meet service targets (issue 11).

- :mod:`~experiments.optimise.targets`: what must be met (``sl_frac>=0.8``, per pool or overall);
- :mod:`~experiments.optimise.warm`: a first staffing from Erlang A, interval by interval;
- :mod:`~experiments.optimise.evaluate`: one staffing simulated under common random numbers, and
  each target's estimate with its confidence bound;
- :mod:`~experiments.optimise.search`: the search (up until every target is met, then down while
  it stays met) and the re-check on fresh replications;
- :mod:`~experiments.optimise.shift_milp` and :mod:`~experiments.optimise.shifts`: with
  ``per_interval``, the cheapest shifts covering an in-house pool's requirement (integer program),
  checked and repaired by simulation; :mod:`~experiments.optimise.shift_output`: their files.
- :mod:`~experiments.optimise.vendor`: a vendor-staffed BPO pool planned by the vendor, per interval,
  to the fewest agents that meet its contract's SLA (run() does it before simulating).
"""
