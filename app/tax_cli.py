"""`flask tax ...`: check one business, run the daily job, send notifications, validate packs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.db import db


def register_tax_cli(app: Flask) -> None:
    tax_cli = AppGroup("tax", help="Tax warnings: rule packs, checks, the daily run.")

    @tax_cli.command("check")
    @click.option("--business", "business_id", type=int, required=True)
    @click.option("--date", "date_text", default=None, help="YYYY-MM-DD (default: today)")
    @click.option("--json", "as_json", is_flag=True, help="Print the active warnings as JSON.")
    def check(business_id: int, date_text: str | None, as_json: bool) -> None:
        """Run every rule for one business and print its active warnings."""
        from app.clock import business_today
        from app.errors import ApiError
        from app.tax.service import check_business, list_warnings

        try:
            day = dt.date.fromisoformat(date_text) if date_text else business_today()
        except ValueError:
            raise click.BadParameter("expected YYYY-MM-DD", param_hint="--date") from None
        with db.connection_context():
            try:
                s = check_business(business_id, day)
            except ApiError as exc:
                raise click.ClickException(exc.message) from None
            items = list_warnings(business_id)
        if as_json:
            click.echo(json.dumps(items, ensure_ascii=False, indent=2))
            return
        click.echo(
            f"business {business_id} as of {day}: opened {s.opened}, updated {s.updated}, "
            f"resolved {s.resolved}"
        )
        for w in items:
            flag = " [needs confirmation]" if w["unconfirmed"] else ""
            click.echo(f"  {w['severity']:5} {w['state']:12} {w['period']:14} {w['rule_id']}{flag}")
            click.echo(f"        {w['message']['zh']}")

    @tax_cli.command("run-daily")
    @click.option("--date", "date_text", default=None, help="As of this date (default: now)")
    def run_daily(date_text: str | None) -> None:
        """Run the daily check for every business now (a manual run, logged in tax_run)."""
        from app.clock import SHANGHAI
        from app.tax.jobs import run_daily_tax_checks

        now = dt.datetime.now(dt.UTC)
        if date_text:
            day = dt.date.fromisoformat(date_text)
            now = dt.datetime.combine(day, dt.time(12), SHANGHAI)
        with db.connection_context():
            run = run_daily_tax_checks(
                now, kind="manual", channels=current_app.extensions["suanpan.tax.channels"]
            )
        assert run is not None  # manual slots are unique
        click.echo(
            f"run {run.slot}: {run.state}; {run.businesses} businesses, opened {run.opened}, "
            f"updated {run.updated}, resolved {run.resolved}, failures {run.failures}"
        )

    @tax_cli.command("notify")
    def notify() -> None:
        """Deliver open warnings not yet delivered (in-app; WeChat when configured)."""
        from app.tax.notify import notify_pending

        with db.connection_context():
            n = notify_pending(current_app.extensions["suanpan.tax.channels"])
        click.echo(f"delivered {n} warning(s)")

    @tax_cli.command("validate")
    @click.argument("path", required=False)
    def validate(path: str | None) -> None:
        """Validate a rule pack file (or the configured directory); exit 1 if broken."""
        from app.tax.pack import RulePackError, load_pack, load_packs

        try:
            packs = [load_pack(Path(path))] if path else load_packs(app.config.get("TAX_RULES_DIR"))
        except RulePackError as exc:
            raise click.ClickException(str(exc)) from None
        for p in packs:
            click.echo(f"ok: {p.id} {p.version} ({len(p.rules)} rules) from {p.path}")

    @tax_cli.command("runs")
    @click.option("--limit", default=10, show_default=True)
    def runs(limit: int) -> None:
        """The latest daily runs (the run log)."""
        from app.models.tax import TaxRun

        with db.connection_context():
            for r in TaxRun.select().order_by(TaxRun.id.desc()).limit(limit):
                click.echo(
                    f"{r.slot} {r.kind:9} {r.state:8} as of {r.as_of} businesses={r.businesses} "
                    f"opened={r.opened} resolved={r.resolved} failures={r.failures}"
                )

    app.cli.add_command(tax_cli)
