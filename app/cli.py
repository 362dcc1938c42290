"""`flask` commands: db upgrade/status, demo data, users."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.db import db


def register_cli(app: Flask) -> None:
    db_cli = AppGroup("db", help="Database schema migrations.")

    @db_cli.command("upgrade")
    def upgrade() -> None:
        """Apply pending migrations."""
        from app.migrate import upgrade as run_upgrade

        with db.connection_context():
            applied = run_upgrade()
        click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")

    @db_cli.command("status")
    def status() -> None:
        """List migrations; exit 1 when some are pending."""
        from app.migrate import runner

        with db.connection_context():
            rows = runner().status()
        for m in rows:
            click.echo(f"[{'x' if m.applied else ' '}] {m.name}")
        if any(not m.applied for m in rows):
            raise SystemExit(1)

    app.cli.add_command(db_cli)

    demo_cli = AppGroup("demo", help="Demo business with three months of entries.")

    @demo_cli.command("create")
    @click.option("--months", default=3, show_default=True)
    @click.option(
        "--logins-file",
        default=None,
        help="Write the demo logins here (default instance/demo-logins.txt).",
    )
    def demo_create(months: int, logins_file: str | None) -> None:
        """Create the demo business unless it exists; print its logins."""
        from pathlib import Path

        from app.demo import ensure_demo

        path = Path(logins_file) if logins_file else Path(app.instance_path) / "demo-logins.txt"
        with db.connection_context():
            created, logins = ensure_demo(path, months=months)
        click.echo(("created" if created else "exists") + f": demo business; logins in {path}")
        for line in logins:
            click.echo("  " + line)

    app.cli.add_command(demo_cli)

    user_cli = AppGroup("user", help="Accounts.")

    @user_cli.command("create")
    @click.argument("username")
    @click.password_option()
    @click.option("--phone", default=None)
    def user_create(username: str, password: str, phone: str | None) -> None:
        """Create a password login."""
        from app.services.auth import register

        with db.connection_context():
            user = register(username, password, phone)
        click.echo(f"created user {user.id} ({username})")

    app.cli.add_command(user_cli)
