"""Command-line entry points: ``flask seed demo``, ``flask users create-staff``, ``flask secrets rotate``,
``flask worker``."""

from __future__ import annotations

import threading
import time

import click
from flask import Flask
from flask.cli import AppGroup

seed = AppGroup("seed", help="Load data.")
users = AppGroup("users", help="Manage users.")
secrets_cli = AppGroup("secrets", help="Encrypted secrets.")


@seed.command("demo")
def seed_demo():
    """Demo organizations, members in every role and each domain's demo data (idempotent)."""
    from webapp.demo import run_all

    run_all(log=click.echo)
    click.echo("demo data ready")


@users.command("create-staff")
@click.argument("email")
@click.password_option()
@click.option("--name", default="")
def create_staff(email, password, name):
    """Create a staff user, or make an existing user staff."""
    from webapp.audit import record
    from webapp.auth import services as accounts
    from webapp.core.errors import DomainError
    from webapp.core.models import utcnow
    from webapp.extensions import db

    user = accounts.find_user_by_email(email)
    try:
        if user is None:
            user = accounts.sign_up(email, password, name)
        else:
            accounts.check_password_strength(password, email)
            user.password_hash = accounts.hash_password(password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    user.is_staff = True
    user.email_verified_at = user.email_verified_at or utcnow()
    record(None, "user.made_staff", user)
    db.session.commit()
    click.echo(f"{user.email} is staff")


@secrets_cli.command("rotate")
def rotate():
    """Re-encrypt every stored secret under ENCRYPTION_KEY (old keys in ENCRYPTION_OLD_KEYS)."""
    from webapp.audit import record
    from webapp.extensions import db
    from webapp.secrets import DecryptionError, rotate_all

    try:
        changed = rotate_all()
    except DecryptionError as error:
        db.session.rollback()
        raise click.ClickException(
            f"{error}. Put the key that sealed it in ENCRYPTION_OLD_KEYS and run again; nothing was changed."
        ) from None
    record(None, "secrets.rotated", None, {"rows": changed})
    db.session.commit()
    total = sum(changed.values())
    click.echo(f"re-encrypted {total} secret(s)" + (f": {changed}" if changed else ""))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@click.option("--queues", default=None, help="Comma-separated queue names (default: all).")
@click.option(
    "--no-fork",
    is_flag=True,
    help="Run each job in the worker process itself (RQ's SimpleWorker) instead of a fork per job: "
    "for queues of many short jobs, such as publishing's steps.",
)
def worker(burst, queues, no_fork):
    """An RQ worker with its scheduler, on every queue."""
    from flask import current_app
    from rq import SimpleWorker, Worker

    from webapp.jobs import QUEUES
    from webapp.jobs.outbox import relay_once, start_relay_thread
    from webapp.jobs.runner import queue_name, redis_connection

    names = queues.split(",") if queues else list(QUEUES)
    unknown = [name for name in names if name not in QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types its LocalProxy as Flask
    if app.config["JOBS_BACKEND"] == "inline":
        raise click.ClickException("JOBS_BACKEND=inline runs every job in-process: there is nothing for a worker to do")
    # A worker is an RQ process even if Redis was away as it started (JOBS_BACKEND=auto then picks
    # in-process): it waits for Redis and relays the outbox, and the jobs it runs enqueue through it.
    app.extensions["tessera.jobs_backend"] = "rq"
    if burst:
        moved = relay_once(app)  # once, before the burst: jobs that waited in the outbox while Redis was away
        click.echo(f"worker: moved {moved} job(s) from the outbox to RQ")
        stop = None
    else:
        # Relays on start-up, on every NOTIFY and every few seconds, Redis up or not.
        stop = start_relay_thread(app, every=app.config["JOBS_OUTBOX_RELAY_SECONDS"])
    try:
        if not burst:
            _wait_for_redis(redis_connection())
        # This instance's queues only (tessera:<instance>:<name>): another checkout's jobs stay its own.
        worker_class = SimpleWorker if no_fork else Worker
        worker = worker_class([queue_name(name) for name in names], connection=redis_connection())
        worker.work(burst=burst, with_scheduler=True)
    finally:
        if stop is not None:
            stop.set()


def _wait_for_redis(redis, every: float = 2.0) -> None:
    """A worker started while Redis is away waits for it (RQ's own loop rides out a later outage);
    meanwhile the relay thread keeps trying, and every job waits in the outbox."""
    from redis.exceptions import RedisError

    said = False
    while True:
        try:
            redis.ping()
            return
        except RedisError as error:
            if not said:
                click.echo(f"worker: Redis does not answer ({type(error).__name__}); waiting, jobs wait in the outbox")
                said = True
            time.sleep(every)


@click.command("cron")
def cron():
    """Run periodic jobs: RQ's cron scheduler with Redis, or in this process without it (one per deployment)."""
    from webapp.jobs.cron import InlineCron, build_cron_scheduler, load_job_modules, stop_on_signals
    from webapp.jobs.runner import backend, redis_connection

    periodic = load_job_modules()
    if backend() == "rq":
        scheduler = build_cron_scheduler(redis_connection(), periodic)
        click.echo(f"cron: {len(periodic)} periodic job(s) on RQ's cron scheduler")
        scheduler.start()
        return
    stop = threading.Event()
    stop_on_signals(stop)
    click.echo(f"cron: {len(periodic)} periodic job(s) run in-process (no Redis); stop with Ctrl-C")
    InlineCron(periodic).run_forever(stop, echo=click.echo)
    click.echo("cron: stopped")


def init_app(app: Flask) -> None:
    for command in (seed, users, secrets_cli, worker, cron):
        app.cli.add_command(command)

    @app.after_request
    def run_inline_jobs(response):
        # In-process jobs, and RQ jobs that Redis refused at enqueue time (they fell back in-process).
        from webapp.jobs import drain_inline

        drain_inline()
        return response
