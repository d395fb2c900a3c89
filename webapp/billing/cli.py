"""``flask billing run --period YYYY-MM`` and ``flask billing dunning``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

billing_cli = AppGroup("billing", help="Billing runs and dunning.")


@billing_cli.command("run")
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--batch-size", default=500, show_default=True)
def run_command(period, batch_size):
    """Bill every active account for the period (idempotent: a re-run creates nothing new)."""
    from webapp.billing.models import BillingRun
    from webapp.billing.services import parse_period, run_billing
    from webapp.core.errors import DomainError
    from webapp.extensions import db
    from webapp.jobs import drain_inline

    try:
        parse_period(period)
    except DomainError as error:
        raise click.BadParameter(error.message) from None
    run = BillingRun(period=period)
    db.session.add(run)
    db.session.commit()
    run = run_billing(
        period,
        run=run,
        batch_size=batch_size,
        commit=True,
        progress=lambda done, total: click.echo(f"  {done}/{total} accounts"),
    )
    db.session.commit()
    drain_inline()
    click.echo(f"billing run {period}: {run.status}, {run.counts}")


@billing_cli.command("dunning")
def dunning_command():
    """Run today's dunning pass now."""
    from webapp.billing.services import run_dunning
    from webapp.extensions import db
    from webapp.jobs import drain_inline

    counts = run_dunning()
    db.session.commit()
    drain_inline()
    click.echo(f"dunning: {counts}")
