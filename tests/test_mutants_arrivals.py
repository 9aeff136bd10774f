"""sim.arrivals (first contacts: streams, days, horizon), models.billing.month_of and sim.usage's
SLA counts, by hand (found by mutation testing)."""

from __future__ import annotations

import numpy as np
from builders import calls, pool, replay, scenario

from models.billing import month_of
from sim.arrivals import first_contact_days, first_contacts

DAY = 86400.0


def _two_types(**extra):
    # Two call types with the same rates (60/h) and distributions: only their names (stream keys) differ.
    from models.loading import scenario_from_dict
    ct = {"calls_per_h": 60.0, "handle": {"dist": "exponential", "mean_s": 60.0},
          "patience": {"dist": "exponential", "mean_s": 30.0}, "route": ["a"]} | extra
    return scenario_from_dict({"name": "t", "interval_min": 60, "service_level_s": 20.0,
                               "demand": [{"name": "x"} | ct, {"name": "y"} | ct],
                               "pools": [pool("a", 1)]}, source="test.toml")


def test_first_contacts_are_sorted_typed_and_drawn_from_their_own_streams():
    scn = _two_types()
    f = first_contacts(scn, 5, 0, DAY)
    assert f.call_type.dtype == np.int32 and set(f.call_type.tolist()) == {0, 1}
    assert (np.diff(f.arrival_s) >= 0).all()  # one sequence sorted by arrival over both types
    x, y = f.arrival_s[f.call_type == 0], f.arrival_s[f.call_type == 1]
    assert not np.array_equal(x[:10], y[:10])  # each type its streams (keyed by its name)
    # Split and resolution draws come from two different streams.
    assert not np.array_equal(f.u_split, f.u_resolve)
    # The same (seed, rep) gives the same calls, handle and patience included; another seed others.
    g = first_contacts(scn, 5, 0, DAY)
    for name in ("arrival_s", "handle_s", "patience_s", "u_split", "u_resolve"):
        assert np.array_equal(getattr(f, name), getattr(g, name)), name
    assert not np.array_equal(first_contacts(scn, 6, 0, DAY).arrival_s[:10], f.arrival_s[:10])
    # About 2 x 60 x 24 = 2,880 calls in a day (Poisson: sd about 54).
    assert 2600 < len(f) < 3160


def test_no_call_arrives_at_or_after_a_horizon_inside_a_day():
    # Horizon of 12.5 h (hourly intervals: interval 12 is cut at 45,000 s, later ones have length 0).
    f = first_contacts(_two_types(), 1, 0, 12.5 * 3600)
    assert f.arrival_s.max() < 12.5 * 3600 and (f.arrival_s >= 12 * 3600).any()
    # At 36,000 calls/h (10 a second) even one second past the horizon would hold calls.
    f = first_contacts(scenario([pool("a", 1)], calls_per_h=36000.0), 1, 0, 12.5 * 3600)
    assert f.arrival_s.max() < 12.5 * 3600 and len(f) > 400_000


def test_one_block_per_day_of_the_horizon():
    scn = scenario([pool("a", 1)], calls_per_h=0.01)
    assert len(list(first_contact_days(scn, 1, 0, 2 * DAY))) == 2
    assert len(list(first_contact_days(scn, 1, 0, 2 * DAY + 3600))) == 3
    # 60 days and one minute (1-minute intervals): 61 blocks.
    scn = scenario([pool("a", 1)], interval_min=1, calls_per_h=0.01)
    assert len(list(first_contact_days(scn, 1, 0, 60 * DAY + 60))) == 61


def test_billing_months_count_from_the_end_of_the_warm_up():
    # Warm-up 1 day; months of 30 days from then, the last one taking the rest.
    month = 30 * DAY
    arrivals = np.array([DAY, DAY + month - 1, DAY + month, DAY + 2 * month + 5])
    assert month_of(arrivals, DAY, 3).tolist() == [0, 0, 1, 2]
    assert month_of(arrivals, DAY, 2).tolist() == [0, 0, 1, 1]


def test_the_sla_counts_calls_answered_or_abandoned_not_blocked():
    # BPO pool b, one agent, lines 3: c0 (200 s) answered at once, c1 at 1 waits (answered at 200,
    # 10 s), c2 at 2 (patience 10) waits and abandons at 12, c3 at 3 and c4 at 4 find 3 in the
    # system: blocked.
    # SLA offered: 3 (c0, c1, c2); met within the contract's threshold (none: every answered
    # call): 2. Answered 2, billed 200 + 10 = 210 one-second increments.
    scn = scenario([pool("b", 1, kind="bpo")], lines=3)
    rep = replay(scn, calls([0, 1, 2, 3, 4], [200, 10, 10, 10, 10], patience_s=[1e9, 1e9, 10, 1e9, 1e9]))
    assert rep.calls["outcome"].tolist() == ["answered", "answered", "abandoned", "blocked", "blocked"]
    u = rep.usage
    assert u[["answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n"]].values.tolist() == [[2, 210, 3, 2]]
    assert all(u[name].dtype == np.int64 for name in ("rep", "month", "answered_n", "sla_offered_n"))
