"""Offers files (TOML): other contracts for a run's BPO pools, to price its saved results under.

An offers file holds ``[[offer]]`` tables, each a unique ``name``, the ``pool`` whose contract it
replaces and a ``contract`` table read exactly as a pool's ``contract`` in a scenario file
(docs/scenarios.md); an optional top-level ``currency`` states the currency of its prices::

    currency = "USD"

    [[offer]]
    name = "vendor-b"
    pool = "offshore"
    contract = { per_minute = 0.22, billing_increment_s = 30 }

A failure is one :class:`~models.fields.ScenarioError` naming the file, the field path and what is
allowed: ``offers.toml: offer[1].contract.per_minute: must be >= 0, got -1``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from models.contracts import Contract
from models.fields import Table, suggest
from models.loading import read_contract, read_toml

#: The offer name of the rows that price the results under their own contracts.
AS_SIMULATED = "as simulated"


@dataclass(frozen=True)
class Offer:
    """One offer: its ``name``, the BPO ``pool`` whose contract it replaces and that ``contract``."""

    name: str
    pool: str
    contract: Contract


def load_offers(path: str | Path, pools: Mapping[str, str] | None = None,
                currencies: Collection[str] | None = None) -> tuple[Offer, ...]:
    """Read and check the offers file ``path``, in file order.

    Args:
        path: the TOML file.
        pools: the pools of the results to be priced, name -> kind (``"bpo"`` or ``"inhouse"``);
            when given, each offer's pool must be one of its BPO pools.
        currencies: the currencies of the results; when given, a ``currency`` in the file must be
            the only one of them.

    Raises:
        ScenarioError: one line naming the file and the field (a missing file, TOML syntax, an
            unknown key, a missing or duplicate name, a pool not in the results or in-house, a bad
            contract key or value, another currency).
    """
    source = str(path)
    top = Table(read_toml(Path(path)), source)
    currency = top.take_str("currency", None)
    if currency is not None and currencies is not None and set(currencies) != {currency}:
        raise top.error("currency", f"must be the results' currency ({', '.join(sorted(currencies))}), "
                                    f"got {currency!r}")
    seen: set[str] = set()
    offers = tuple(_read_offer(Table(item, source, f"offer[{i}]"), pools, seen)
                   for i, item in enumerate(top.take_list("offer", min_len=1)))
    top.done()
    return offers


def _read_offer(t: Table, pools: Mapping[str, str] | None, seen: set[str]) -> Offer:
    name = t.take_str("name")
    if name == AS_SIMULATED:
        raise t.error("name", f"{AS_SIMULATED!r} names the results' own contracts; choose another name")
    if name in seen:
        raise t.error("name", f"duplicate name {name!r}; offer names must be unique")
    seen.add(name)
    pool = t.take_str("pool")
    if pools is not None:
        _check_pool(t, pool, pools)
    offer = Offer(name, pool, read_contract(t.raw("contract"), t.source, t.sub("contract")))
    t.done()
    return offer


def _check_pool(t: Table, pool: str, pools: Mapping[str, str]) -> None:
    """``pool`` must be a BPO pool of the results (an in-house pool has a wage, not a contract)."""
    bpo = tuple(name for name, kind in pools.items() if kind == "bpo")
    allowed = f"BPO pools in the results: {', '.join(bpo) or 'none'}"
    if pool not in pools:
        raise t.error("pool", f"unknown pool {pool!r}{suggest(pool, bpo)}; {allowed}")
    if pools[pool] != "bpo":
        raise t.error("pool", f"{pool!r} is an in-house pool (paid by wage_per_h, no contract); {allowed}")
