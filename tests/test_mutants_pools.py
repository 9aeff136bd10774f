"""models.pools.Pool: opening windows, scheduled and available agents, by hand (found by mutation testing)."""

from __future__ import annotations

import pytest

from models.pools import Pool


def _pool(open_h=(0.0, 24.0), open_days=(0, 1, 2, 3, 4, 5, 6), agents=(3,) * 24, shrinkage_frac=0.0):
    return Pool("p", "inhouse", "local", tuple(agents), shrinkage_frac=shrinkage_frac,
                open_h=open_h, open_days=tuple(open_days))


@pytest.mark.parametrize(("open_h", "open_days", "day", "hour", "expected"), [
    # Always open ([0, 24]), on the open days only (Monday 0 to Friday 4); day 7 is a Monday again.
    ((0.0, 24.0), (0, 1, 2, 3, 4), 0, 0.0, True),
    ((0.0, 24.0), (0, 1, 2, 3, 4), 4, 23.5, True),
    ((0.0, 24.0), (0, 1, 2, 3, 4), 5, 12.0, False),
    ((0.0, 24.0), (0, 1, 2, 3, 4), 7, 12.0, True),
    ((0.0, 24.0), (0, 1, 2, 3, 4), 13, 12.0, False),
    # A window of 24 h starting at 6 (6 to 30): open the whole of an open day, closed on others.
    ((6.0, 30.0), (0,), 0, 2.0, True),
    ((6.0, 30.0), (0,), 1, 2.0, False),
    # Windows ending at 24 or starting at 0 are not the whole day.
    ((8.0, 24.0), (0,), 0, 3.0, False),
    ((8.0, 24.0), (0,), 0, 23.5, True),
    ((1.0, 24.0), (0,), 0, 0.5, False),
    ((0.0, 8.0), (0,), 0, 10.0, False),
    ((0.0, 8.0), (0,), 0, 7.5, True),
    # 8 to 20: the start is in, the end is out; closed on a closed day even inside the window.
    ((8.0, 20.0), (0, 1, 2, 3, 4, 5, 6), 2, 8.0, True),
    ((8.0, 20.0), (0, 1, 2, 3, 4, 5, 6), 2, 19.5, True),
    ((8.0, 20.0), (0, 1, 2, 3, 4, 5, 6), 2, 20.0, False),
    ((8.0, 20.0), (0, 1, 2, 3, 4, 5, 6), 2, 7.5, False),
    ((8.0, 20.0), (1,), 0, 10.0, False),
    ((8.0, 20.0), (1,), 8, 10.0, True),
    # 22 to 6 past midnight, open days Monday only: Monday 22:00-24:00 and Tuesday 00:00-06:00
    # (the window belongs to the day it opens), not Monday 00:00-06:00 (Sunday's window, closed).
    ((22.0, 6.0), (0,), 0, 22.0, True),
    ((22.0, 6.0), (0,), 0, 23.5, True),
    ((22.0, 6.0), (0,), 1, 0.0, True),
    ((22.0, 6.0), (0,), 1, 5.5, True),
    ((22.0, 6.0), (0,), 1, 6.0, False),
    ((22.0, 6.0), (0,), 1, 21.5, False),
    ((22.0, 6.0), (0,), 1, 22.0, False),
    ((22.0, 6.0), (0,), 0, 3.0, False),
    ((22.0, 6.0), (0,), 7, 23.0, True),   # Monday of week 2, its own window
    ((22.0, 6.0), (0,), 8, 1.0, True),    # ... going on into Tuesday of week 2
    ((22.0, 6.0), (0,), 7, 3.0, False),   # Monday of week 2: Sunday's window again
    ((22.0, 6.0), (6,), 7, 3.0, True),    # ... open when Sunday (day 6) is an open day
    ((22.0, 6.0), (6,), 0, 3.0, True),    # day 0's early hours belong to the Sunday before (day -1 = 6)
])
def test_is_open(open_h, open_days, day, hour, expected):
    assert _pool(open_h, open_days).is_open(day, hour) is expected


def test_scheduled_agents_are_the_intervals_agents_while_open_else_zero():
    # Half-hour intervals (interval_h 0.5), open 8 to 20: interval 16 starts at 8:00, 39 at 19:30, 40 at 20:00.
    agents = tuple(range(48))
    p = _pool((8.0, 20.0), agents=agents)
    assert [p.scheduled(0, k, 0.5) for k in (15, 16, 39, 40)] == [0, 16, 39, 0]


@pytest.mark.parametrize(("scheduled", "shrinkage", "expected"), [
    (10, 0.0, 10), (10, 0.2, 8),
    (10, 0.25, 8),   # 7.5 rounded half up
    (10, 0.26, 7),   # 7.4
    (3, 0.5, 2),     # 1.5 rounded half up
    (0, 0.3, 0),
])
def test_available_agents_after_shrinkage_round_half_up(scheduled, shrinkage, expected):
    assert _pool(shrinkage_frac=shrinkage).available(scheduled) == expected
