"""Dutch legal rules for pre-incasso: BIK costs, the 14-day term, contact windows, wording.

Pure functions, no I/O. Every rule cites the section of ``docs/legal-nl.md`` ("legal-nl §x")
it encodes; where that document marks a point UNCERTAIN the conservative reading is taken (a
later date, fewer contact moments) and the choice is stated in the docstring. This is product
logic, not legal advice: legal-nl.md asks for sign-off by Dutch counsel.

One module per concern, so counsel can review each on its own:

- :mod:`.costs` — the BIK staffel and the costs of a business debtor (legal-nl §1.6, §2);
- :mod:`.calendar_nl` and :mod:`.terms` — Atw holidays, presumed delivery, the 14-day term
  and its wording (legal-nl §1.2–1.4);
- :mod:`.contact` — when a debtor may be contacted (legal-nl §4.2, §4.4);
- :mod:`.wording` — the one engine that checks a message (legal-nl §7.3) and a consumer
  letter (legal-nl §7.1), with the Dutch and English rules as tables in
  :mod:`.content_rules`, :mod:`.letter_rules` and :mod:`.languages`.

Callers import from this package (``from connector.collection import legal``); the names
below are its public surface.
"""

from __future__ import annotations

from connector.collection.legal.calendar_nl import (
    DESIGNATED_DAYS,
    atw_holidays,
    is_postal_delivery_day,
    is_public_holiday,
    is_working_day,
)
from connector.collection.legal.contact import (
    CONTACT_FROM,
    CONTACT_UNTIL,
    DEFAULT_MAX_CONTACTS_PER_DAY,
    MAX_CONTACTS_PER_DAY_CAP,
    contact_allowed,
    is_contact_day,
    may_contact,
    next_contact_moment,
)
from connector.collection.legal.content_rules import (
    FORBIDDEN_CONTENT,
    FORBIDDEN_CONTENT_EN,
    ContentRule,
)
from connector.collection.legal.costs import (
    BIK_BANDS,
    BIK_MAXIMUM,
    BIK_MINIMUM,
    COMMERCIAL_MINIMUM,
    DEFAULT_VAT_RATE,
    STATUTORY_PAYMENT_DAYS,
    BikBand,
    BikBreakdown,
    BusinessCosts,
    bik_breakdown,
    bik_costs,
    bik_costs_for_invoices,
    business_costs,
    business_costs_due_from,
    combined_principal,
)
from connector.collection.legal.debtors import (
    DebtorKind,
    normalize_debtor_kind,
    requires_fourteen_day_letter,
)
from connector.collection.legal.errors import (
    HolidayDataError,
    InvalidAmountError,
    InvalidChoiceError,
    LegalRuleError,
    NaiveDatetimeError,
)
from connector.collection.legal.formatting import format_euro, format_long_date
from connector.collection.legal.inputs import AMSTERDAM, CENT
from connector.collection.legal.terms import (
    TERM_DAYS,
    Delivery,
    PaymentTerm,
    safe_term_wording,
    term_for_letter,
)
from connector.collection.legal.wording import check_message_text, consumer_letter_requirements

__all__ = [
    "AMSTERDAM",
    "BIK_BANDS",
    "BIK_MAXIMUM",
    "BIK_MINIMUM",
    "CENT",
    "COMMERCIAL_MINIMUM",
    "CONTACT_FROM",
    "CONTACT_UNTIL",
    "DEFAULT_MAX_CONTACTS_PER_DAY",
    "DEFAULT_VAT_RATE",
    "DESIGNATED_DAYS",
    "FORBIDDEN_CONTENT",
    "FORBIDDEN_CONTENT_EN",
    "MAX_CONTACTS_PER_DAY_CAP",
    "STATUTORY_PAYMENT_DAYS",
    "TERM_DAYS",
    "BikBand",
    "BikBreakdown",
    "BusinessCosts",
    "ContentRule",
    "DebtorKind",
    "Delivery",
    "HolidayDataError",
    "InvalidAmountError",
    "InvalidChoiceError",
    "LegalRuleError",
    "NaiveDatetimeError",
    "PaymentTerm",
    "atw_holidays",
    "bik_breakdown",
    "bik_costs",
    "bik_costs_for_invoices",
    "business_costs",
    "business_costs_due_from",
    "check_message_text",
    "combined_principal",
    "consumer_letter_requirements",
    "contact_allowed",
    "format_euro",
    "format_long_date",
    "is_contact_day",
    "is_postal_delivery_day",
    "is_public_holiday",
    "is_working_day",
    "may_contact",
    "next_contact_moment",
    "normalize_debtor_kind",
    "requires_fourteen_day_letter",
    "safe_term_wording",
    "term_for_letter",
]
