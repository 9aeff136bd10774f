"""The numbers do not change by accident: tables of two small bundled runs against stored digests.

See tests/regression.py (``python tests/regression.py --full`` also checks the bundled study as
``make report`` runs it). A change meant to alter the numbers records new digests with
``--record`` and says so in its commit.
"""

from __future__ import annotations

import json

import pytest
from regression import SMALL, STORED, differences, run_case


@pytest.mark.parametrize("case", SMALL)
def test_tables_match_the_stored_digests(case, tmp_path):
    stored = json.loads(STORED.read_text(encoding="utf-8"))[case]
    assert differences(stored, run_case(case, tmp_path)) == []
