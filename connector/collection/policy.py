"""The pre-incasso policy of one company: when a case opens and which steps follow.

Stored as JSON (``collection_settings.policy``) and always read through :func:`parse_policy`,
which refuses anything malformed with a message a person can act on. The default follows
Dutch practice: a stamped last reminder, the Profitletter (for consumers a valid 14-day letter,
art. 6:96 lid 6 BW), an SMS nudge, a call, and hand-over once the legal term has passed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

CHANNELS = ("stamp", "letter", "email", "sms", "whatsapp", "call", "handover")
CHANNEL_LABELS = {
    "stamp": "incassostempel op de laatste herinnering",
    "letter": "Profitletter (post en e-mail)",
    "email": "e-mail",
    "sms": "sms",
    "whatsapp": "WhatsApp",
    "call": "telefoongesprek",
    "handover": "klaar voor overdracht",
}
# Channels that reach the debtor at a moment in time: contact windows apply.
CONTACT_CHANNELS = frozenset({"stamp", "letter", "email", "sms", "whatsapp", "call"})
VARIANTS = ("consumer", "business")
DEFAULT_LETTER_FEE = Decimal("14.95")


class PolicyError(ValueError):
    """A policy that cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class Step:
    name: str
    channel: str
    delay_days: int
    after: str = "previous"  # "previous" step's sending, or "start" of the case
    template: str = ""
    needs_approval: bool = False
    fee: Decimal = Decimal("0")  # excluding VAT, charged to the creditor, never the debtor


@dataclass(frozen=True)
class Policy:
    start_after_days: int = 14
    minimum_amount: Decimal = Decimal("25.00")
    consumer: tuple[Step, ...] = field(default_factory=tuple)
    business: tuple[Step, ...] = field(default_factory=tuple)
    # What a debtor may propose on its page as a payment plan (the creditor still decides).
    plan_max_terms: int = 6
    plan_first_within_days: int = 30  # the first term falls at most this many days ahead
    plan_term_days: int = 30  # days between terms
    plan_grace_days: int = 5  # a term counts as missed this many days after its date

    def steps(self, variant: str) -> tuple[Step, ...]:
        return self.consumer if variant == "consumer" else self.business


def default_policy() -> Policy:
    def steps(letter_template: str) -> tuple[Step, ...]:
        return (
            Step("Laatste herinnering met incassostempel", "stamp", 0, "start", "stamp"),
            Step("Profitletter", "letter", 7, "previous", letter_template, fee=DEFAULT_LETTER_FEE),
            Step("Sms-herinnering", "sms", 5, "previous", "sms"),
            Step("Telefoongesprek", "call", 4, "previous", "call_script"),
            Step("Klaar voor overdracht", "handover", 0, "previous", "handover"),
        )

    return Policy(consumer=steps("profitletter_consumer"), business=steps("profitletter_business"))


def policy_to_json(policy: Policy) -> dict[str, Any]:
    data = asdict(policy)

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(data)


def _decimal(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError):
        raise PolicyError(f"{where}: '{value}' is geen bedrag") from None
    if amount < 0 or not amount.is_finite():
        raise PolicyError(f"{where}: een bedrag kan niet negatief zijn")
    return amount.quantize(Decimal("0.01"))


def _int(value: Any, where: str, low: int, high: int) -> int:
    text = str(value)
    if (isinstance(value, bool) or not isinstance(value, int | str) or not text.isascii()
            or not text.isdigit() or len(text) > 6):
        raise PolicyError(f"{where}: '{value}' is geen heel aantal dagen")
    number = int(value)
    if not low <= number <= high:
        raise PolicyError(f"{where}: moet tussen {low} en {high} liggen")
    return number


def parse_policy(data: dict[str, Any]) -> Policy:
    """Validate stored or submitted JSON into a :class:`Policy`."""
    if not isinstance(data, dict):
        raise PolicyError("het beleid is geen object")
    variants = {}
    for variant in VARIANTS:
        raw_steps = data.get(variant)
        if not isinstance(raw_steps, list) or not raw_steps:
            raise PolicyError(f"{variant}: minstens één stap nodig")
        steps = []
        for number, raw in enumerate(raw_steps, start=1):
            where = f"{variant}, stap {number}"
            if not isinstance(raw, dict):
                raise PolicyError(f"{where}: geen geldige stap")
            channel = raw.get("channel")
            if channel not in CHANNELS:
                raise PolicyError(f"{where}: onbekend kanaal '{channel}'")
            after = raw.get("after", "previous")
            if after not in ("previous", "start"):
                raise PolicyError(f"{where}: 'after' moet 'previous' of 'start' zijn")
            name = str(raw.get("name") or CHANNEL_LABELS[channel]).strip()[:60]
            steps.append(
                Step(
                    name=name,
                    channel=channel,
                    delay_days=_int(raw.get("delay_days", 0), f"{where}, wachttijd", 0, 365),
                    after=after,
                    template=str(raw.get("template") or channel)[:60],
                    needs_approval=bool(raw.get("needs_approval", False)),
                    fee=_decimal(raw.get("fee", "0"), f"{where}, tarief"),
                )
            )
        handovers = [i for i, s in enumerate(steps) if s.channel == "handover"]
        if handovers and handovers != [len(steps) - 1]:
            raise PolicyError(f"{variant}: 'klaar voor overdracht' kan alleen de laatste stap zijn")
        variants[variant] = tuple(steps)
    return Policy(
        start_after_days=_int(data.get("start_after_days", 14), "start na dagen", 0, 365),
        minimum_amount=_decimal(data.get("minimum_amount", "25.00"), "minimumbedrag"),
        consumer=variants["consumer"],
        business=variants["business"],
        plan_max_terms=_int(data.get("plan_max_terms", 6), "betalingsregeling, termijnen", 2, 24),
        plan_first_within_days=_int(data.get("plan_first_within_days", 30),
                                    "betalingsregeling, eerste termijn binnen", 1, 90),
        plan_term_days=_int(data.get("plan_term_days", 30),
                            "betalingsregeling, dagen tussen termijnen", 7, 92),
        plan_grace_days=_int(data.get("plan_grace_days", 5),
                             "betalingsregeling, coulance", 0, 30),
    )
