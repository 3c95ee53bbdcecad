"""Forms (Flask-WTF: CSRF on every one) in the UI's language.

Labels, choices and validator messages are lazy (``lazy_gettext``): the forms are defined once
at import, the text is looked up when a page in Dutch or English renders it. Messages added
while validating a request use ``gettext``.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from connector.clock import today_nl
from connector.emails import InvalidEmail, normalised_email


class SignInEmail:
    """WTForms validator: the one e-mail rule of connector.emails (as `operator add` uses)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: EmailField) -> None:
        try:
            normalised_email(field.data or "")
        except InvalidEmail:
            raise ValidationError(self.message) from None


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), validators=[
        DataRequired(_l("Vul uw e-mailadres in.")),
        SignInEmail(_l("Dit is geen geldig e-mailadres."))])
    password = PasswordField(_l("Wachtwoord"), validators=[
        DataRequired(_l("Vul uw wachtwoord in."))])
    next = HiddenField()


class ChooseTenantsForm(FlaskForm):
    tenants = SelectMultipleField(
        _l("Administraties"), validators=[DataRequired(_l("Kies minstens één administratie."))]
    )


class ConnectKeyForm(FlaskForm):
    """The key a ledger gives the creditor to connect us (``auth_kind`` "client-key"). A
    password field: the key is never sent back to the browser, not even after an error."""

    key = PasswordField(_l("Koppelsleutel"), validators=[
        DataRequired(_l("Plak de koppelsleutel.")), Length(max=2000)])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Notitie"), validators=[
        DataRequired(_l("Schrijf een notitie.")),
        Length(max=500, message=_l("Maximaal 500 tekens."))])
    submission = HiddenField()  # one-time token: submitting twice queues one write


class FiniteDecimalField(DecimalField):
    """A DecimalField that takes ``NaN``, ``Infinity`` and absurd exponents for "no amount":
    they would pass or crash the comparisons of the validators."""

    LIMIT = Decimal("1e12")

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and (not self.data.is_finite() or abs(self.data) >= self.LIMIT):
            self.data = None


# A payment before this is a typing error (and a claim that old has long been time-barred).
OLDEST_PAYMENT_YEARS = 20


class PaymentForm(FlaskForm):
    amount = FiniteDecimalField(_l("Bedrag (€)"), places=2, validators=[
        DataRequired(_l("Vul een bedrag in, bijvoorbeeld 125,50.")),
        NumberRange(min=Decimal("0.01"), message=_l("Het bedrag moet groter zijn dan nul."))])
    paid_on = DateField(_l("Betaaldatum"), default=today_nl, validators=[
        DataRequired(_l("Vul een geldige datum in (jjjj-mm-dd)."))])
    submission = HiddenField()  # one-time token: submitting twice queues one write

    def __init__(self, *args: object, open_amount: Decimal | None = None, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.open_amount = open_amount

    def validate_amount(self, field: DecimalField) -> None:
        if self.open_amount is not None and field.data and field.data > self.open_amount:
            raise ValidationError(_("Het bedrag is hoger dan het openstaande bedrag."))

    def validate_paid_on(self, field: DateField) -> None:
        if field.data and field.data > today_nl():
            raise ValidationError(_("Een betaling kan niet in de toekomst liggen."))
        if field.data and field.data.year < today_nl().year - OLDEST_PAYMENT_YEARS:
            raise ValidationError(_("Deze betaaldatum ligt te ver in het verleden."))


class SenderForm(FlaskForm):
    """In whose name the steps go out: the creditor's own name, bank account and contact."""

    name = StringField(_l("Naam schuldeiser"), validators=[
        DataRequired(_l("Vul de naam in waaronder de herinneringen gaan.")), Length(max=120)])
    iban = StringField(_l("IBAN"), validators=[
        DataRequired(_l("Vul het IBAN in waarop de debiteur betaalt."))])
    email = EmailField(_l("E-mailadres voor vragen"), validators=[
        Optional(), Email(_l("Dit is geen geldig e-mailadres."))])
    phone = StringField(_l("Telefoonnummer voor vragen"), validators=[
        Optional(), Length(max=30)])

    def validate_iban(self, field: StringField) -> None:
        try:
            field.data = IBAN(field.data or "").compact
        except SchwiftyException:
            raise ValidationError(_("Dit IBAN klopt niet (controleer de cijfers).")) from None

    def validate_phone(self, field: StringField) -> None:
        """A number a debtor can really call; Dutch numbers written the Dutch way."""
        import phonenumbers

        try:
            number = phonenumbers.parse(field.data or "", "NL")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_("Dit telefoonnummer klopt niet (bijvoorbeeld 030 123 4567 "
                                    "of +32 2 123 45 67)."))
        style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 31
                 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        field.data = phonenumbers.format_number(number, style)


class StampViaLedgerForm(FlaskForm):
    """Only where the ledger sends its own reminders (capability ``send_own_reminder``): the
    stamp step as the ledger's own reminder instead of our e-mail. The page labels the box with
    the plug-in's ``own_reminder_label``."""

    stamp_via_ledger = BooleanField()


class HoldForm(FlaskForm):
    kind = SelectField(_l("Soort"), choices=[
        SelectChoice("dispute", _l("Betwisting")),
        SelectChoice("promise", _l("Betaalbelofte (tot een datum)")),
        SelectChoice("payment_plan", _l("Betalingsregeling")),
        SelectChoice("pause", _l("Pauze")),
    ])
    reason = StringField(_l("Reden"), validators=[
        DataRequired(_l("Geef een reden.")), Length(max=300)])
    until = DateField(_l("Tot en met"), validators=[Optional()])

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        # Checked here, not in validate_until: Optional() stops that chain on an empty date.
        ok = super().validate(extra_validators)  # type: ignore[arg-type]
        if self.kind.data == "promise" and not self.until.data and not self.until.errors:
            self.until.errors = [*self.until.errors, _("Een betaalbelofte heeft een datum nodig.")]
            ok = False
        if self.until.data and self.until.data < today_nl():
            self.until.errors = [*self.until.errors, _("Deze datum ligt in het verleden.")]
            ok = False
        return ok


class TemplateForm(FlaskForm):
    """A company's own text for one message template; "Voorbeeld" shows it, "Opslaan" keeps it."""

    body = TextAreaField(_l("Tekst"), validators=[DataRequired(_l("Het sjabloon is leeg."))])
    case_id = SelectField(_l("Voorbeeld voor dossier"), choices=[], validate_choice=False,
                          validators=[Optional()])
    preview = SubmitField(_l("Voorbeeld"))
    save = SubmitField(_l("Opslaan"))


class ResetTemplateForm(FlaskForm):
    """Only the CSRF token: "Terug naar standaard" deletes the company's own text."""
