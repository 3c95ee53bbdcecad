"""CSV files a creditor opens in a spreadsheet: no cell may be taken for a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel and LibreOffice (``=HYPERLINK(...)`` in a policy step's name would become a
link in the creditor's statement). Such cells get a leading apostrophe, the convention
spreadsheets show as plain text.
"""

from __future__ import annotations

import csv
import io
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as text, with an apostrophe before anything a spreadsheet would evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _amount(value: Any) -> str:
    return f"{value:.2f}".replace(".", ",")


def statement_csv(result: Any) -> str:
    """A monthly statement (:class:`connector.collection.fees.Statement`) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["datum", "omschrijving", "bedrag excl. btw"])
    for line in result.lines:
        # The amounts are ours (Decimal, formatted here); every text cell goes through safe_cell.
        writer.writerow([safe_cell(line.created_at.date().isoformat()),
                         safe_cell(line.description), _amount(line.amount)])
    writer.writerow(["", "totaal", _amount(result.total)])
    return out.getvalue()
