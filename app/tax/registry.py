"""The loaded rule packs for this process (set once by create_app via app.tax.init_app)."""

from __future__ import annotations

from app.tax.rules import Pack, Rule

_packs: list[Pack] = []


def set_packs(packs: list[Pack]) -> None:
    _packs[:] = packs


def packs() -> list[Pack]:
    if not _packs:
        from app.tax.pack import load_packs

        set_packs(load_packs())
    return list(_packs)


def find_rule(rule_id: str) -> tuple[Pack, Rule] | None:
    for p in packs():
        r = p.rule(rule_id)
        if r is not None:
            return p, r
    return None
