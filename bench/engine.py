"""Collection engine: time to open and plan N cases for one company.

The mirror is built directly in a throw-away SQLite database with bulk inserts (one company,
N / 5 debtors, N overdue open invoices), so only the engine is timed: ``open_new_cases`` (one
case per overdue invoice) and ``plan`` (a planned delivery for each case's first step), each in
its own transaction, commit included.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from connector.clock import today_nl
from connector.collection.cases import open_new_cases, policy_for
from connector.collection.engine import plan
from connector.config import Settings
from connector.models import Case, Company, Debtor, DeliveryCase, Invoice
from connector.services import Services

TARGET_PLAN_SECONDS = 10.0
BATCH = 10_000


def _id() -> str:
    return uuid.uuid4().hex


def build(services: Services, cases: int, today: date) -> str:
    """One company with ``cases`` overdue open invoices over ``cases // 5`` debtors."""
    company_id = _id()
    debtors = [_id() for _ in range(max(cases // 5, 1))]
    with services.db.session() as session:
        session.execute(insert(Company), [{"id": company_id, "name": "Bench B.V.",
                                           "provider": "moneybird"}])
        session.execute(insert(Debtor), [
            {"id": d, "company_id": company_id, "external_id": str(n), "version": "1",
             "kind": "consumer" if n % 3 else "business", "name": f"Debiteur {n}",
             "email": f"d{n}@example.test", "address_line": "Straat 1", "postal_code": "1234 AB",
             "city": "Utrecht", "country": "NL"}
            for n, d in enumerate(debtors)])
        for start in range(0, cases, BATCH):
            session.execute(insert(Invoice), [
                {"id": _id(), "company_id": company_id, "external_id": f"inv-{n}",
                 "debtor_id": debtors[n % len(debtors)], "version": "1", "number": f"F{n:07d}",
                 "status": "open", "ledger_state": "open",
                 "invoice_date": today - timedelta(days=60 + n % 30),
                 "due_date": today - timedelta(days=30 + n % 30), "currency": "EUR",
                 "total": Decimal("121.00") + n % 500, "open_amount": Decimal("121.00") + n % 500}
                for n in range(start, min(start + BATCH, cases))])
    return company_id


def run(cases: int) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
                        token_encryption_keys=(Fernet.generate_key().decode(),),
                        public_url="http://127.0.0.1:9")
    services = Services.from_settings(settings)
    services.db.upgrade()
    today = today_nl()
    started = time.perf_counter()
    company_id = build(services, cases, today)
    built = time.perf_counter() - started

    started = time.perf_counter()
    with services.db.session() as session:
        opened = len(open_new_cases(session, company_id, today, policy_for(session, company_id)))
    open_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with services.db.session() as session:
        planned = plan(session, company_id, today, policy_for(session, company_id))
    plan_seconds = time.perf_counter() - started
    with services.db.session() as session:
        linked = session.scalar(select(func.count()).select_from(DeliveryCase))
        total = session.scalar(select(func.count()).select_from(Case))
    if opened != cases or linked != cases or total != cases:
        raise RuntimeError(f"engine bench: {opened} opened, {linked} planned of {cases}")
    services.db.dispose()
    both = open_seconds + plan_seconds
    at_scale = cases >= 100_000  # the target is set for 100,000 cases
    return [
        {"measure": f"engine: build mirror of {cases} invoices (bulk insert, s)",
         "value": round(built, 2)},
        {"measure": f"engine: open_new_cases for {cases} invoices (s)",
         "value": round(open_seconds, 2), "note": f"{cases / open_seconds:.0f} cases/s"},
        {"measure": f"engine: plan {cases} cases (s)", "value": round(plan_seconds, 2),
         "target": f"<{TARGET_PLAN_SECONDS:g}" if at_scale else None,
         "ok": plan_seconds < TARGET_PLAN_SECONDS if at_scale else None,
         "note": f"{planned} deliveries; {cases / plan_seconds:.0f} cases/s"},
        {"measure": f"engine: open + plan {cases} cases (s)", "value": round(both, 2),
         "target": f"<{TARGET_PLAN_SECONDS:g}" if at_scale else None,
         "ok": both < TARGET_PLAN_SECONDS if at_scale else None,
         "note": "opening the cases (an event each, the amount formatted by Babel) takes most;"
                 " planning alone meets the target" if at_scale else ""},
    ]


if __name__ == "__main__":
    import sys

    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000):
        print(row)
