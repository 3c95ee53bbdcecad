"""Files in the database: any machine prints, posts and downloads what another one made."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from pypdf import PdfReader

from connector.collection.posting import letter_store
from connector.filestore import STATEMENT, DbFileStore, FileStoreError
from connector.services import Services
from tests.helpers import csrf_token
from tests.test_engine import at
from tests.test_engine_channels import wired  # noqa: F401  (fixture)
from tests.test_web import _operator_session

MONDAY = date(2026, 3, 2)


def test_put_get_list_delete(services):
    files = DbFileStore(services.db)
    assert files.put(STATEMENT, "c1/2026-02.csv", b"a;b\n", meta={"month": "2026-02"})
    assert not files.put(STATEMENT, "c1/2026-02.csv", b"other", overwrite=False)
    assert files.get(STATEMENT, "c1/2026-02.csv") == b"a;b\n"
    assert files.put(STATEMENT, "c1/2026-02.csv", b"a;b;c\n")  # the same run again: replaced
    [info] = files.list(STATEMENT)
    assert (info.name, info.size, info.meta) == ("c1/2026-02.csv", 6, {})
    assert files.delete(STATEMENT, "c1/2026-02.csv")
    with pytest.raises(FileStoreError):
        files.get(STATEMENT, "c1/2026-02.csv")
    with pytest.raises(FileStoreError):
        files.put(STATEMENT, "../etc/passwd", b"x")


def test_a_letter_queued_on_one_machine_is_printed_and_posted_from_another(
    wired, live_server, tmp_path  # noqa: F811
):
    world, _mail, _twilio, worker_dir = wired  # the worker's machine: its own LETTER_DIR
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 8):  # the stamp on 2 March, the Profitletter on Monday 9 March
        world.day(MONDAY + timedelta(days=offset))
    [entry] = letter_store(world.services).entries()

    # The web process runs elsewhere: another folder, the same database.
    web_dir = tmp_path / "web-machine"
    web = Services.from_settings(world.services.settings.replace(
        letter_dir=str(web_dir / "letters"), data_dir=str(web_dir)))
    from connector import create_app

    live_server.app = create_app(services=web)
    url = web.settings.public_url
    try:
        with time_machine.travel(at(date(2026, 3, 9), 15), tick=False):
            browser = _operator_session(web)
            page = browser.get(f"{url}/operator/print").text
            assert entry.delivery_id in page
            pdf = browser.get(f"{url}/operator/print/letters.pdf",
                              params={"letter": entry.delivery_id})
            assert pdf.headers["Content-Type"] == "application/pdf"
            assert len(PdfReader(io.BytesIO(pdf.content)).pages) == entry.pages
            posted = browser.post(f"{url}/operator/print/posted", data={
                "csrf_token": csrf_token(page), "letter": entry.delivery_id,
                "posted_on": "2026-03-09"})
            assert "1 brief als gepost vastgelegd" in posted.text
    finally:
        web.db.dispose()
    assert world.case(inv).letter_posted_on == date(2026, 3, 9)
    # The worker's machine sees the posting too, and neither machine kept a local copy.
    assert letter_store(world.services).get(entry.delivery_id).posted_on == date(2026, 3, 9)
    for folder in (worker_dir, web_dir):
        assert not folder.exists() or not any(folder.rglob("*.pdf"))


def test_operators_fetch_print_files_and_statements_with_the_cli(services, tmp_path,
                                                                  monkeypatch):
    from click.testing import CliRunner

    from connector.cli import main
    from connector.filestore import PRINT_FILE

    DbFileStore(services.db).put(PRINT_FILE, "2026-03-09.pdf", b"%PDF-1.7 test")
    monkeypatch.setenv("DATABASE_URL", services.settings.database_url)
    listed = CliRunner().invoke(main, ["files", "list", "print-file"])
    assert listed.exit_code == 0 and "2026-03-09.pdf\t13\t" in listed.output
    out = tmp_path / "print.pdf"
    got = CliRunner().invoke(main, ["files", "get", "print-file", "2026-03-09.pdf",
                                    "--out", str(out)])
    assert got.exit_code == 0 and out.read_bytes() == b"%PDF-1.7 test"
    missing = CliRunner().invoke(main, ["files", "get", "statement", "x/2026-02.csv",
                                        "--out", str(out)])
    assert missing.exit_code == 1 and "no statement file" in missing.output
