"""Daily and monthly jobs of the worker: the print file and the statements.

Both are stored in the database (see connector.filestore), so an operator finds them from any
machine whichever worker made them; they are safe to run more than once (the same inputs give
the same file, stored under the same name).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from connector.collection.fees import statement
from connector.csv_export import statement_csv
from connector.filestore import PRINT_FILE, STATEMENT, DbFileStore
from connector.models import Company
from connector.services import Services

log = logging.getLogger(__name__)


def daily_print_file(services: Services, day: date) -> str | None:
    """Merge the day's waiting letters into one PDF for the printer; returns its name in the
    file store (kind ``print_file``), None when there are none."""
    if not services.settings.smtp_url:
        return None  # letters are recorded, not produced, without a configured letter channel
    from connector.channels.print_queue import print_file_for_day
    from connector.collection.posting import letter_store

    ids, pdf = print_file_for_day(letter_store(services), day)
    if not ids:
        return None
    name = f"{day.isoformat()}.pdf"
    DbFileStore(services.db).put(PRINT_FILE, name, pdf, meta={"letters": ids})
    log.info("print file for %s: %d letters", day, len(ids))
    return name


def monthly_statements(services: Services, month: str) -> list[str]:
    """Store last month's statement per company as CSV (amounts excluding VAT); returns the
    names in the file store (kind ``statement``)."""
    files = DbFileStore(services.db)
    written = []
    with services.db.session() as session:
        companies = list(session.scalars(select(Company)))
    for company in companies:
        with services.db.session() as session:
            result = statement(session, company.id, month)
        if not result.lines:
            continue
        name = f"{company.id}/{month}.csv"
        files.put(STATEMENT, name, statement_csv(result).encode("utf-8"),
                  company_id=company.id, meta={"month": month})
        written.append(name)
    return written


def previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
