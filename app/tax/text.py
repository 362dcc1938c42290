"""Warning text in zh-CN and English, filled from the figures that fired it."""

from __future__ import annotations

from typing import Any

from app.tax.rules import Rule


class _Figures(dict):
    def __missing__(self, key: str) -> str:  # a figure a metric did not produce this time
        return "-"


def render(rule: Rule, figures: dict[str, Any]) -> dict[str, dict[str, str]]:
    values = _Figures({k: ("" if v is None else v) for k, v in figures.items()})
    return {
        lang: {
            "title": rule.title[lang],
            "message": rule.message[lang].format_map(values),
            "note": rule.note.get(lang, ""),
        }
        for lang in ("zh", "en")
    }
