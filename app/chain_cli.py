"""`flask chain ...`: verify the logs, seal on demand, print the key or a checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from app.db import db


def register_chain_cli(app: Flask) -> None:
    """Attach the `chain` command group (create_app calls this)."""
    group = AppGroup("chain", help="The signed Merkle log of ledger events.")

    @group.command("verify")
    @click.option("--business", "business_id", type=int, help="Only this business.")
    @click.option(
        "--checkpoint",
        "checkpoint_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Also check the log against this signed checkpoint kept outside the database.",
    )
    @click.option("--vkey", help="Trust this verifier key instead of the node's own key file.")
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    @click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="Processes that read and check the leaves of large logs "
        "(default: the CPU count, at most 4; 1 for none).",
    )
    def verify(
        business_id: int | None,
        checkpoint_file: Path | None,
        vkey: str | None,
        quiet: bool,
        workers: int | None,
    ) -> None:
        """Re-derive every leaf from the ledger rows, recompute the trees, check checkpoints.

        Exits 1 and names the first problem (business, leaf, entry, field) if anything is off.
        """
        from app.services.chain_verify import run_verify

        external = checkpoint_file.read_text("utf-8") if checkpoint_file else None
        with db.connection_context():
            reports = run_verify(
                business_id, external, vkey, progress_bar=not quiet, workers=workers
            )
        failed = [r for r in reports if not r.ok]
        for r in reports:
            status = "ok" if r.ok else f"FAILED ({len(r.problems)} problem(s))"
            click.echo(f"business {r.business_id}: {r.leaves} leaves, {r.blocks} blocks: {status}")
        if failed:
            first = failed[0].problems[0]
            click.echo(f"FIRST PROBLEM: {first}", err=True)
            for r in failed:
                for p in r.problems:
                    click.echo(f"  - {p}", err=True)
            sys.exit(1)
        click.echo(f"OK: {len(reports)} log(s) verified")

    @group.command("seal")
    @click.option("--business", "business_id", type=int, help="Only this business.")
    def seal(business_id: int | None) -> None:
        """Seal new leaves into blocks now (the scheduler does this every CHAIN_SEAL_SECONDS)."""
        from app.services import chain

        with db.connection_context():
            if business_id is None:
                blocks = chain.seal_all()
            else:
                block = chain.seal(business_id)
                blocks = [block] if block else []
        for b in blocks:
            click.echo(f"business {b.business_id}: block {b.height}, tree size {b.tree_size}")
        if not blocks:
            click.echo("nothing to seal")

    @group.command("key")
    def key() -> None:
        """Print the node's verifier key (creates the signing key on first run)."""
        from app.services.chain_keys import keyring

        click.echo(keyring.ensure())

    @group.command("checkpoint")
    @click.option("--business", "business_id", type=int, required=True)
    def checkpoint(business_id: int) -> None:
        """Print a business's latest signed checkpoint (keep a copy for --checkpoint)."""
        from app.services import chain

        with db.connection_context():
            block = chain.latest_block(business_id)
        if block is None:
            click.echo("no checkpoint yet (run `flask chain seal`)", err=True)
            sys.exit(1)
        click.echo(block.checkpoint, nl=False)

    app.cli.add_command(group)
