"""Tax warnings (issue: scheduled tax-warning rules): China small-business rules kept as data.

`init_app` loads and validates the rule packs (a broken file refuses to start), subscribes the
post-posting threshold check to ledger events, builds the notifier channels and registers the
`flask tax` commands. Layout: pack.py/rules.py (the data), books.py/metrics.py (what is read
from the books), evaluate.py, service.py (stored warnings), notify.py + wechat_subscribe.py,
deadlines.py (calendar), immediate.py (after posting), jobs.py (the daily run).
"""

from __future__ import annotations

from flask import Flask

from app.tax.pack import RulePackError, load_packs

__all__ = ["RulePackError", "init_app", "channels_for"]


def channels_for(app: Flask) -> list:  # type: ignore[type-arg]
    from app.tax.notify import InAppChannel, WeChatSubscribeChannel
    from app.tax.wechat_subscribe import SubscribeMessageClient

    out: list = [InAppChannel()]  # type: ignore[type-arg]
    template = app.config.get("TAX_WECHAT_TEMPLATE_ID")
    if template and app.config.get("WECHAT_APP_ID"):
        client = SubscribeMessageClient(
            app.config["WECHAT_APP_ID"],
            app.config["WECHAT_APP_SECRET"],
            app.config["WECHAT_API_BASE"],
            app.config["WECHAT_TIMEOUT_SECONDS"],
        )
        fields = dict(
            part.split("=", 1)
            for part in app.config["TAX_WECHAT_TEMPLATE_FIELDS"].split(",")
            if "=" in part
        )
        out.append(
            WeChatSubscribeChannel(
                client,
                template,
                fields,
                app.config.get("TAX_WECHAT_PAGE", ""),
                app.config.get("TAX_WECHAT_STATE", "formal"),
            )
        )
    return out


def init_app(app: Flask) -> None:
    from app.events import subscribe
    from app.tax import registry
    from app.tax.immediate import on_ledger_event
    from app.tax.jobs import daily_trigger
    from app.tax_cli import register_tax_cli

    registry.set_packs(load_packs(app.config.get("TAX_RULES_DIR") or None))
    try:
        daily_trigger(app)
    except ValueError as exc:  # a bad cron must stop the start, not the 08:00 run
        raise RulePackError(f"TAX_DAILY_CRON / TAX_TIMEZONE: {exc}") from None
    app.extensions["suanpan.tax.channels"] = channels_for(app)
    if app.config.get("TAX_CHECK_ON_POSTING", True):
        subscribe(on_ledger_event)
    register_tax_cli(app)
