"""Daily and monthly jobs of the worker: the print file and the statements.

Both write files an operator picks up (`instance/print/`, `instance/statements/`); they are
safe to run more than once (the same inputs give the same file).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from connector.collection.fees import statement
from connector.config import INSTANCE_DIR
from connector.csv_export import statement_csv
from connector.models import Company
from connector.services import Services

log = logging.getLogger(__name__)


def daily_print_file(services: Services, day: date, out_dir: Path | None = None) -> Path | None:
    """Merge the day's waiting letters into one PDF for the printer; None when there are none."""
    if not services.settings.smtp_url:
        return None  # letters are recorded, not produced, without a configured letter channel
    from connector.channels.letter import FileLetterStore, print_file_for_day

    ids, pdf = print_file_for_day(FileLetterStore(services.settings.letter_dir), day)
    if not ids:
        return None
    out_dir = out_dir or INSTANCE_DIR / "print"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{day.isoformat()}.pdf"
    path.write_bytes(pdf)
    log.info("print file for %s: %d letters", day, len(ids))
    return path


def monthly_statements(services: Services, month: str, out_dir: Path | None = None) -> list[Path]:
    """Write last month's statement per company as CSV (amounts excluding VAT)."""
    out_dir = out_dir or INSTANCE_DIR / "statements"
    written = []
    with services.db.session() as session:
        for company in session.scalars(select(Company)):
            result = statement(session, company.id, month)
            if not result.lines:
                continue
            path = out_dir / company.id / f"{month}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(statement_csv(result))
            written.append(path)
    return written


def previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
