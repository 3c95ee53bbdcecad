"""The ``connector`` command: demo, worker, database, operators, emulators."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from connector.config import load_settings
from providers.plugin import LedgerPlugin
from providers.plugins import PLUGINS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from connector.config import Settings
    from connector.services import Services


def _settings() -> Settings:
    """The settings from the environment; a wrong value is a clear message, not a traceback."""
    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _services() -> Services:
    # Imported here so `connector --help` stays fast.
    from connector.services import Services

    return Services.from_settings(_settings())


@click.group()
def main() -> None:
    """Pre-incasso connector: sync overdue invoices, write every step back."""
    from connector.logs import configure_logging

    configure_logging()  # LOG_FORMAT: text or json


def _emulator_port_options(command: Callable[..., None]) -> Callable[..., None]:
    """One ``--…-port`` option per ledger with a demo emulator (``<key>_port``)."""
    for plugin in reversed(PLUGINS):
        if plugin.demo is not None:
            command = click.option(
                plugin.demo.port_option or f"--{plugin.slug}-port", f"{plugin.key}_port",
                default=plugin.demo.default_port, show_default=True,
                help=f"Port of the {plugin.display_name} emulator.")(command)
    return command


@main.command()
@click.option("--port", default=5000, show_default=True, help="Port of the web app.")
@_emulator_port_options
@click.option("--seed", default=1, show_default=True, help="Seed of the emulators' data.")
def demo(port: int, seed: int, **emulator_ports: int) -> None:
    """Run everything on this machine: emulators, database, web app and background sync."""
    from connector import ConfigurationError
    from connector.demo import run_demo

    ports = {key.removesuffix("_port"): value for key, value in emulator_ports.items()}
    try:
        run_demo(port=port, emulator_ports=ports, seed=seed)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


SCHEMA_WAIT = click.option(
    "--wait-for-schema", "schema_wait", default=60, show_default=True, type=click.IntRange(0),
    help="Seconds to wait for `connector migrate` before giving up (0: do not wait).")


def _require_schema(engine: Engine, timeout: float) -> None:
    """Workers and the web app never migrate: they wait for the deploy step or refuse."""
    from connector.db import SchemaNotReady, wait_for_schema

    try:
        wait_for_schema(engine, timeout, logging.getLogger("connector.cli"))
    except SchemaNotReady as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@SCHEMA_WAIT
def worker(schema_wait: int) -> None:
    """Run the background sync and the write-back outbox in the foreground."""
    from connector import ConfigurationError, check_settings
    from connector.worker import Worker

    services = _services()
    try:
        check_settings(services.settings)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    _require_schema(services.db.engine, schema_wait)
    Worker(services, lease_ttl=timedelta(seconds=services.settings.lease_seconds),
           stop_timeout=services.settings.worker_stop_timeout).run_forever()


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (the same as `connector migrate`)."""
    _migrate()


@main.command()
def migrate() -> None:
    """The deploy step: apply the migrations, one process at a time (safe to run again)."""
    _migrate()


def _migrate() -> None:
    from connector.db import Database, current_revisions
    from connector.db import migrate as migrate_schema

    database = Database(_settings().database_url)
    try:
        migrate_schema(database.engine)
        revision = ", ".join(sorted(current_revisions(database.engine)))
    finally:
        database.dispose()
    click.echo(f"database is up to date (revision {revision})")


@main.command()
@SCHEMA_WAIT
def serve(schema_wait: int) -> None:
    """Serve the web app under gunicorn: BIND, WEB_CONCURRENCY, TRUSTED_PROXIES, LOG_FORMAT."""
    from connector import ConfigurationError, check_settings
    from connector.db import Database
    from connector.serve import ServeOptions
    from connector.serve import serve as run_server

    settings = _settings()
    try:
        options = ServeOptions.from_environ()
        check_settings(settings)
    except (ValueError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from None
    database = Database(settings.database_url)
    try:
        _require_schema(database.engine, schema_wait)
    finally:
        database.dispose()
    run_server(options)


@main.group()
def operator() -> None:
    """Operator accounts (the collection partner's staff)."""


@operator.command("add")
@click.argument("email")
@click.password_option(help="At least 10 characters; asked for when not given.")
def operator_add(email: str, password: str) -> None:
    """Add an operator who signs in with EMAIL and a password."""
    from connector.db import migrate as migrate_schema
    from connector.web.auth import add_operator

    services = _services()
    migrate_schema(services.db.engine)  # under the migration lock, like `connector migrate`
    try:
        # No app needed (and none made): the demo secrets' refusal is no reason to refuse this.
        add_operator(email, password, db=services.db)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"operator {email} added")


@operator.command("set-password")
@click.argument("email")
@click.password_option(help="At least 10 characters; asked for when not given.")
def operator_set_password(email: str, password: str) -> None:
    """Give operator EMAIL a new password; every session of that operator ends."""
    from connector.web.auth import set_password

    try:
        set_password(_services().db, email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {email} changed; its sessions are signed out")


@main.command()
@click.argument("company_id")
def sync(company_id: str) -> None:
    """Sync one company now and print the outcome (under its lease, like a worker)."""
    from connector import leases
    from connector.sync import sync_company

    services = _services()
    me = f"cli:{leases.new_worker_id()}"
    try:
        with leases.holding(services, me, company_id,
                            timedelta(seconds=services.settings.lease_seconds)):
            result = sync_company(services, company_id, trigger="manual", worker=me)
    except leases.LeaseHeld as exc:
        raise click.ClickException(
            f"company {company_id} is being worked on by worker {exc.owner}; "
            "try again when it is done") from None
    except LookupError:
        raise click.ClickException(f"no company {company_id!r} (see `connector cases`)") from None
    click.echo(f"{result.outcome}: {result.api_calls} API calls, {result.invoices_changed} "
               f"changed, {result.invoices_closed} closed, {result.open_invoices} open")
    if result.outcome != "ok":
        sys.exit(1)


@main.command()
@click.argument("company")
@click.option("--state", default=None, help="Only cases in this state (active, on_hold, "
              "ready_for_handover, handed_over, closed).")
def cases(company: str, state: str | None) -> None:
    """List a company's pre-incasso cases with their state and next step.

    COMPANY is the company id or (part of) its name.
    """
    from connector.collection.report import case_rows, find_company

    services = _services()
    with services.db.session() as session:
        try:
            found = find_company(session, company)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        rows = case_rows(session, found.id, state)
        click.echo(f"{found.name} ({found.id}): {len(rows)} dossiers")
        for row in rows:
            click.echo("  ".join(row))


@main.command()
def keygen() -> None:
    """Print a new key for TOKEN_ENCRYPTION_KEYS."""
    from connector.crypto import generate_key

    click.echo(generate_key())


@main.group()
def emulator() -> None:
    """Platform emulators for tests and demos (loopback only)."""


def _emulator_command(plugin: LedgerPlugin, run: Callable[[int, int, str | None], None]) -> None:
    """``connector emulator <slug>``: the ledger's emulator, seeded, until Ctrl-C."""

    def serve(port: int, seed: int, token: str | None) -> None:
        run(port, seed, token)

    serve.__doc__ = f"Serve the {plugin.display_name} emulator."
    command = click.option("--token", default=None, help="Pre-issue this bearer token (like a "
                           "fixed personal API token) for every tenant.")(serve)
    command = click.option("--seed", default=1, show_default=True)(command)
    command = click.option("--port", default=plugin.demo.default_port if plugin.demo else 0,
                           show_default=True)(command)
    emulator.command(plugin.slug)(command)


for _plugin in PLUGINS:
    if _plugin.demo is not None and _plugin.demo.run is not None:
        _emulator_command(_plugin, _plugin.demo.run)


def _register_subcommands() -> None:
    from connector.bounces import bounces_cli
    from connector.channels.letter_sample import letter_cli
    from connector.collection.legal_cli import legal

    main.add_command(legal)
    main.add_command(letter_cli, name="letter")
    main.add_command(bounces_cli, name="bounces")
    from connector.files_cli import files_cli

    main.add_command(files_cli, name="files")


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
