"""Forms of the operator console (Flask-WTF: CSRF on every one), messages in Dutch."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from connector.collection.calls import OUTCOME_LABELS
from connector.models import CallOutcome


class CallOutcomeForm(FlaskForm):
    outcome = SelectField("Uitkomst", choices=[SelectChoice("", "Kies de uitkomst…")] + [
        SelectChoice(o.value, OUTCOME_LABELS[o].capitalize()) for o in CallOutcome],
        validators=[DataRequired("Kies de uitkomst van het gesprek.")])
    promised_on = DateField("Belooft te betalen op", validators=[Optional()])
    note = TextAreaField("Notitie", validators=[Optional(), Length(
        max=500, message="Maximaal 500 tekens.")])

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        ok = super().validate(extra_validators)  # type: ignore[arg-type]
        if (self.outcome.data == CallOutcome.PROMISED and not self.promised_on.data
                and not self.promised_on.errors):
            self.promised_on.errors = [*self.promised_on.errors,
                                       "Een betaalbelofte heeft een datum nodig."]
            ok = False
        return ok


class PostedForm(FlaskForm):
    posted_on = DateField("Gepost op", validators=[DataRequired("Vul de postdatum in.")])


class PartnerForm(FlaskForm):
    """The collection partner on whose paper the letters go (Wki: name, number, complaints)."""

    name = StringField("Naam", validators=[DataRequired("Vul de naam in."), Length(max=120)])
    address = TextAreaField("Adres (één regel per regel)", validators=[
        DataRequired("Vul het adres in."), Length(max=300)])
    wki_number = StringField("Wki-registratienummer", validators=[
        DataRequired("Vul het Wki-registratienummer in (verplicht op elke brief)."),
        Length(max=60)])
    kvk = StringField("KvK-nummer", validators=[
        DataRequired("Vul het KvK-nummer in."),
        Regexp(r"^\d{8}$", message="Een KvK-nummer heeft 8 cijfers.")])
    phone = StringField("Telefoon", validators=[DataRequired("Vul een telefoonnummer in."),
                                                 Length(max=30)])
    email = EmailField("E-mailadres", validators=[
        DataRequired("Vul een e-mailadres in."), Email("Dit is geen geldig e-mailadres.")])
    website = StringField("Website", validators=[Optional(), Length(max=120)])
    complaints = StringField("Klachtenregeling (Nederlands)", validators=[
        DataRequired("Vermeld waar een debiteur kan klagen (Wki)."), Length(max=200)])
    complaints_en = StringField("Klachtenregeling (Engels)", validators=[
        DataRequired("Vermeld waar een debiteur kan klagen (Wki)."), Length(max=200)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Zoek op debiteur of factuurnummer", validators=[
        DataRequired("Vul een naam of factuurnummer in."), Length(min=2, max=100,
                                                                   message="Minstens 2 tekens.")])


