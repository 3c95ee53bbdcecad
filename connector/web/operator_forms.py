"""Forms of the operator console (Flask-WTF: CSRF on every one), in the UI's language.

Labels and messages are lazy (``lazy_gettext``): the forms are defined once at import, the
text is looked up when a page in Dutch or English renders it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from connector.models import CallOutcome

# The choices the operator sees; the Dutch is ``calls.OUTCOME_LABELS`` capitalised (the
# audit notes keep using that, always in Dutch).
OUTCOME_CHOICES = {
    CallOutcome.PROMISED: _l("Belooft te betalen"),
    CallOutcome.DISPUTE: _l("Betwist de factuur"),
    CallOutcome.SAYS_PAID: _l("Zegt betaald te hebben"),
    CallOutcome.NO_ANSWER: _l("Geen gehoor"),
    CallOutcome.VOICEMAIL: _l("Voicemail ingesproken"),
    CallOutcome.WRONG_NUMBER: _l("Verkeerd nummer"),
}


class CallOutcomeForm(FlaskForm):
    outcome = SelectField(_l("Uitkomst"), choices=[SelectChoice("", _l("Kies de uitkomst…"))] + [
        SelectChoice(o.value, OUTCOME_CHOICES[o]) for o in CallOutcome],
        validators=[DataRequired(_l("Kies de uitkomst van het gesprek."))])
    promised_on = DateField(_l("Belooft te betalen op"), validators=[Optional()])
    note = TextAreaField(_l("Notitie"), validators=[Optional(), Length(
        max=500, message=_l("Maximaal 500 tekens."))])

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        ok = super().validate(extra_validators)  # type: ignore[arg-type]
        if (self.outcome.data == CallOutcome.PROMISED and not self.promised_on.data
                and not self.promised_on.errors):
            self.promised_on.errors = [*self.promised_on.errors,
                                       _l("Een betaalbelofte heeft een datum nodig.")]
            ok = False
        return ok


class PostedForm(FlaskForm):
    posted_on = DateField(_l("Gepost op"), validators=[DataRequired(_l("Vul de postdatum in."))])


class PartnerForm(FlaskForm):
    """The collection partner on whose paper the letters go (Wki: name, number, complaints)."""

    name = StringField(_l("Naam"), validators=[DataRequired(_l("Vul de naam in.")),
                                               Length(max=120)])
    address = TextAreaField(_l("Adres (één regel per regel)"), validators=[
        DataRequired(_l("Vul het adres in.")), Length(max=300)])
    wki_number = StringField(_l("Wki-registratienummer"), validators=[
        DataRequired(_l("Vul het Wki-registratienummer in (verplicht op elke brief).")),
        Length(max=60)])
    kvk = StringField(_l("KvK-nummer"), validators=[
        DataRequired(_l("Vul het KvK-nummer in.")),
        Regexp(r"^\d{8}$", message=_l("Een KvK-nummer heeft 8 cijfers."))])
    phone = StringField(_l("Telefoon"), validators=[DataRequired(_l("Vul een telefoonnummer in.")),
                                                    Length(max=30)])
    email = EmailField(_l("E-mailadres"), validators=[
        DataRequired(_l("Vul een e-mailadres in.")),
        Email(_l("Dit is geen geldig e-mailadres."))])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=120)])
    complaints = StringField(_l("Klachtenregeling (Nederlands)"), validators=[
        DataRequired(_l("Vermeld waar een debiteur kan klagen (Wki).")), Length(max=200)])
    complaints_en = StringField(_l("Klachtenregeling (Engels)"), validators=[
        DataRequired(_l("Vermeld waar een debiteur kan klagen (Wki).")), Length(max=200)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Zoek op debiteur of factuurnummer"), validators=[
        DataRequired(_l("Vul een naam of factuurnummer in.")),
        Length(min=2, max=100, message=_l("Minstens 2 tekens."))])
