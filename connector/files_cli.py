"""``connector files``: fetch what the database keeps (print files, statements, letters)."""

from __future__ import annotations

import click

from connector.config import load_settings
from connector.filestore import KINDS, DbFileStore, FileStoreError
from connector.services import Services


@click.group("files")
def files_cli() -> None:
    """Files kept in the database: daily print files, monthly statements, letters."""


@files_cli.command("list")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
def files_list(kind: str) -> None:
    """List the stored files of KIND (name, size, created)."""
    files = DbFileStore(_services().db)
    for info in files.list(KINDS[kind]):
        click.echo(f"{info.name}\t{info.size}\t{info.created_at:%Y-%m-%d %H:%M}")


@files_cli.command("get")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the file.")
def files_get(kind: str, name: str, out: str) -> None:
    """Write the stored file NAME of KIND to --out (e.g. print-file 2026-03-09.pdf)."""
    try:
        content = DbFileStore(_services().db).get(KINDS[kind], name)
    except FileStoreError as exc:
        raise click.ClickException(str(exc)) from None
    with open(out, "wb") as handle:
        handle.write(content)
    click.echo(f"{name}: {len(content)} bytes written to {out}")


def _services() -> Services:
    return Services.from_settings(load_settings())
