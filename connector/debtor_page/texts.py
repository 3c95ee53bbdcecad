"""The debtor's page in Dutch and English.

Like the messages and letters (not the creditors' and operators' UI, which goes through
Flask-Babel), the debtor's page speaks the debtor's language: the one its message was in, or the
one it picks on the page.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Uw betaling aan {creditor}",
        "neutral_title": "Deze link werkt niet (meer)",
        "neutral_text": "Deze link is onbekend of verlopen. Heeft u een brief of bericht over "
                        "een betaling gekregen? Neem dan contact op met het bedrijf dat u de "
                        "factuur stuurde, via de gegevens die u zelf van hen heeft.",
        "busy_title": "Even geduld",
        "busy_text": "Er zijn te veel verzoeken gedaan. Probeer het over een kwartier opnieuw.",
        "intro": "{partner} stuurde u namens {creditor} een herinnering. Op deze pagina ziet u "
                 "wat er in dat bericht stond. U kunt hier betalen, of ons laten weten wat er "
                 "aan de hand is.",
        "invoices": "Openstaande facturen",
        "invoice": "Factuur",
        "invoice_date": "Factuurdatum",
        "due_date": "Vervaldatum",
        "amount": "Bedrag",
        "total": "Totaal",
        "deadline": "Betaal uiterlijk {day}; dan zijn er geen extra kosten.",
        "paid_mark": "betaald",
        "pay": "Betalen",
        "pay_online": "Betaal factuur {number} online",
        "pay_online_help": "De betaalpagina van {creditor} opent.",
        "pay_transfer": "Of maak het bedrag over",
        "box_amount": "Bedrag",
        "box_name": "Naam begunstigde",
        "box_iban": "IBAN",
        "box_reference": "Betalingskenmerk",
        "box_help": "Scan de QR-code met uw bank-app: bedrag, naam, IBAN en kenmerk staan dan "
                    "al ingevuld. Controleer altijd of {creditor} als naam "
                    "wordt getoond.",
        "qr_alt": "QR-code voor een overboeking van {amount} aan {creditor}, IBAN {iban}, "
                  "kenmerk {reference}",
        "nothing_open": "Er staat niets meer open. Dank u wel.",
        "respond": "Iets laten weten",
        "respond_help": "Uw antwoord houdt de herinneringen meteen tegen, en {creditor} "
                        "krijgt het meteen te zien.",
        "paid_title": "Ik heb al betaald",
        "paid_on": "Datum van betaling",
        "paid_reference": "Kenmerk of omschrijving van uw betaling (niet verplicht)",
        "dispute_title": "Ik ben het niet eens met de factuur",
        "dispute_reason": "Waarom niet?",
        "plan_title": "Ik wil een betalingsregeling",
        "plan_terms": "Aantal termijnen (2 tot en met {max})",
        "plan_first": "Datum van de eerste termijn (uiterlijk {last})",
        "plan_help": "{creditor} beslist over uw voorstel en laat het u weten.",
        "callback_title": "Bel mij terug",
        "callback_day": "Op welke dag? (niet op zondag of een feestdag)",
        "callback_window": "Tussen",
        "callback_phone": "Wij bellen het nummer dat {creditor} van u heeft.",
        "send": "Versturen",
        "correct": "Aanpassen",
        "given": "U heeft dit doorgegeven op {day}.",
        "done_paid": "Dank u. We kijken of uw betaling binnen is; tot dan krijgt u geen "
                     "herinneringen.",
        "done_dispute": "Dank u. {creditor} bekijkt uw bezwaar; tot dan krijgt u geen "
                        "herinneringen.",
        "done_plan": "Dank u. {creditor} bekijkt uw voorstel en laat u weten of het akkoord is.",
        "done_callback": "Dank u. We bellen u terug op het gekozen moment.",
        "plan_accepted": "Uw betalingsregeling is geaccepteerd:",
        "plan_refused": "Uw voorstel voor een betalingsregeling is niet geaccepteerd.",
        "err_required": "Vul dit in.",
        "err_date": "Vul een geldige datum in (dag-maand-jaar).",
        "err_paid_future": "De datum van betaling kan niet in de toekomst liggen.",
        "err_paid_old": "Die datum ligt te ver terug; neem daarvoor contact op met {creditor} "
                        "zelf.",
        "err_plan_terms": "Kies 2 tot en met {max} termijnen.",
        "err_plan_first": "Kies een datum van vandaag tot en met {last}.",
        "err_callback_day": "Kies een werkdag of zaterdag in de komende twee weken (geen "
                            "feestdag).",
        "err_callback_window": "Kies een tijdvak.",
        "err_too_long": "Dit is te lang (hoogstens {max} tekens).",
        "err_too_many_corrections": "U heeft dit antwoord al vaak aangepast. Neem daarvoor "
                                    "contact op met {creditor} zelf.",
        "err_decided": "Over dit voorstel is al beslist.",
        "err_form": "Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
        "err_closed": "Er staat niets meer open; er hoeft niets te gebeuren.",
        "genuine_title": "Is dit echt?",
        "genuine": "Deze pagina hoort bij de herinnering die {partner} namens {creditor} stuurde. "
                   "Het adres in uw browser begint met {host}. Twijfelt u? Bel {creditor} op "
                   "een nummer dat u zelf kent (van uw factuur of hun website), niet op een "
                   "nummer van deze pagina. Wij vragen nooit om een wachtwoord of pincode, en u "
                   "betaalt alleen aan {creditor} zelf.",
        "contact": "Contact met {creditor}",
        "about_partner": "Namens {creditor} verstuurt {partner} herinneringen; "
                         "Wki-registratie {wki}.",
        "no_costs": "Aan deze herinnering zijn geen kosten verbonden.",
        "language": "Taal",
    },
    "en": {
        "title": "Your payment to {creditor}",
        "neutral_title": "This link does not work (any more)",
        "neutral_text": "This link is unknown or has expired. Did you receive a letter or message "
                        "about a payment? Please contact the company that sent you the invoice, "
                        "using contact details you already have.",
        "busy_title": "Please wait",
        "busy_text": "Too many requests were made. Please try again in a quarter of an hour.",
        "intro": "{partner} sent you a reminder on behalf of {creditor}. This page shows what "
                 "that message said. You can pay here, or let us know what is going on.",
        "invoices": "Open invoices",
        "invoice": "Invoice",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "amount": "Amount",
        "total": "Total",
        "deadline": "Please pay no later than {day}; there are no extra costs until then.",
        "paid_mark": "paid",
        "pay": "Pay",
        "pay_online": "Pay invoice {number} online",
        "pay_online_help": "The payment page of {creditor} opens.",
        "pay_transfer": "Or transfer the amount",
        "box_amount": "Amount",
        "box_name": "Beneficiary name",
        "box_iban": "IBAN",
        "box_reference": "Payment reference",
        "box_help": "Scan the QR code with your banking app: amount, name, IBAN and reference "
                    "are filled in for you. Always check that {creditor} is shown as the name.",
        "qr_alt": "QR code for a transfer of {amount} to {creditor}, IBAN {iban}, "
                  "reference {reference}",
        "nothing_open": "Nothing is open any more. Thank you.",
        "respond": "Let us know",
        "respond_help": "Your answer stops the reminders at once, and {creditor} sees it "
                        "straight away.",
        "paid_title": "I have already paid",
        "paid_on": "Date of payment",
        "paid_reference": "Reference or description of your payment (optional)",
        "dispute_title": "I disagree with the invoice",
        "dispute_reason": "Why?",
        "plan_title": "I would like a payment plan",
        "plan_terms": "Number of instalments (2 to {max})",
        "plan_first": "Date of the first instalment (no later than {last})",
        "plan_help": "{creditor} decides on your proposal and will let you know.",
        "callback_title": "Call me back",
        "callback_day": "On which day? (not on a Sunday or public holiday)",
        "callback_window": "Between",
        "callback_phone": "We will call the number {creditor} has for you.",
        "send": "Send",
        "correct": "Change",
        "given": "You told us this on {day}.",
        "done_paid": "Thank you. We will check whether your payment has arrived; until then you "
                     "will not receive reminders.",
        "done_dispute": "Thank you. {creditor} will look into your objection; until then you "
                        "will not receive reminders.",
        "done_plan": "Thank you. {creditor} will consider your proposal and let you know.",
        "done_callback": "Thank you. We will call you back at the chosen time.",
        "plan_accepted": "Your payment plan has been accepted:",
        "plan_refused": "Your payment plan proposal was not accepted.",
        "err_required": "Please fill this in.",
        "err_date": "Please enter a valid date.",
        "err_paid_future": "The date of payment cannot be in the future.",
        "err_paid_old": "That date is too long ago; please contact {creditor} directly.",
        "err_plan_terms": "Choose 2 to {max} instalments.",
        "err_plan_first": "Choose a date from today up to {last}.",
        "err_callback_day": "Choose a working day or Saturday in the next two weeks (no public "
                            "holiday).",
        "err_callback_window": "Choose a time window.",
        "err_too_long": "This is too long (at most {max} characters).",
        "err_too_many_corrections": "You have changed this answer many times already. Please "
                                    "contact {creditor} directly.",
        "err_decided": "This proposal has already been decided on.",
        "err_form": "The form has expired. Please reload the page and try again.",
        "err_closed": "Nothing is open any more; nothing needs to be done.",
        "genuine_title": "Is this genuine?",
        "genuine": "This page belongs to the reminder {partner} sent on behalf of {creditor}. "
                   "The address in your browser starts with {host}. In doubt? Call {creditor} "
                   "on a number you know yourself (from your invoice or their website), not a "
                   "number from this page. We never ask for a password or PIN, and you only "
                   "ever pay {creditor} itself.",
        "contact": "Contact {creditor}",
        "about_partner": "On behalf of {creditor}, {partner} sends reminders; Wki "
                         "registration {wki}.",
        "no_costs": "This reminder is free of charge.",
        "language": "Language",
    },
}


class Texts:
    """``t.key`` or ``t("key", name=value)`` in the page's language."""

    def __init__(self, lang: str, **common: str) -> None:
        self.lang = lang if lang in TEXTS else "nl"
        self.common = common

    def __call__(self, key: str, **values: object) -> str:
        return TEXTS[self.lang][key].format(**{**self.common, **values})

    def __getattr__(self, key: str) -> str:
        if key.startswith("_") or key not in TEXTS["nl"]:
            raise AttributeError(key)
        return self(key)
