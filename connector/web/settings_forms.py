"""Forms for the settings page and the cases console: policy, skip, hand-over, exclusions, logo.

Kept apart from ``forms.py`` so the policy editor can grow without touching the other forms.
Every message names what to type instead, in the UI's language (lazy where defined at import);
the policy form checks each field itself (so the message stands next to it) and
:func:`parse_policy` checks the whole.
"""

from __future__ import annotations

import io
import warnings
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Form, HiddenField, SelectField, StringField
from wtforms.fields import FieldList, FormField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from connector import TEMPLATES
from connector.collection.policy import CHANNELS
from connector.web.filters import CHANNEL_LABELS, template_label

MAX_STEPS = 12
LOGO_MAX_BYTES = 500 * 1024
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# A few kB of PNG can hold 144 megapixels (1.2 GB per letter once decoded): the header's size is
# checked before any pixel is decoded, and what is kept is re-encoded to letterhead size.
LOGO_MAX_PIXELS = 25_000_000
LOGO_BOX = (1200, 600)  # pixels; the letterhead shows the logo at most a few cm wide
AFTER_CHOICES = [SelectChoice("previous", _l("na de vorige stap")),
                 SelectChoice("start", _l("na opening van het dossier"))]


def message_templates() -> list[str]:
    """Names of the step texts on disk (``templates/messages/*.txt``)."""
    return sorted(p.stem for p in (TEMPLATES / "messages").glob("*.txt"))


def default_template(channel: str, variant: str) -> str:
    """The text a step uses when none is chosen."""
    return {"letter": f"profitletter_{variant}", "call": "call_script"}.get(channel, channel)


class DutchSelectField(SelectField):
    """A select whose 'not in the list' message is ours (Dutch or English), not WTForms'."""

    def __init__(self, *args: Any, invalid: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid or _l("Kies een waarde uit de lijst.")

    def pre_validate(self, form: Form) -> None:
        if self.data not in [choice.value for choice in self.iter_choices()]:
            raise ValidationError(str(self.invalid))  # as text: escaped like the others


def whole_days(text: str | None, *, high: int = 365) -> int:
    """A whole, non-negative number of days, or a ValidationError in the UI's language."""
    value = (text or "").strip()
    # ASCII digits only ("²".isdigit() is True) and short (int() of 5,000 digits raises).
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        raise ValidationError(_("Vul een heel aantal dagen in (0 of meer), bijvoorbeeld 7."))
    if int(value) > high:
        raise ValidationError(_("Hoogstens %(days)s dagen.", days=high))
    return int(value)


def _euro_messages(what: str) -> dict[str, str]:
    """The messages of :func:`euros` for one kind of amount (whole sentences: Dutch words for
    an amount differ in article and gender, so the kind is not pasted into one sentence)."""
    if what == "tarief":
        return {"empty": _("Vul een tarief in euro's in, bijvoorbeeld 14,95 (of 0)."),
                "invalid": _("Vul een tarief in euro's in, bijvoorbeeld 14,95."),
                "negative": _("Een tarief kan niet negatief zijn."),
                "high": _("Dit tarief is onwaarschijnlijk hoog.")}
    if what == "minimumbedrag":
        return {"empty": _("Vul een minimumbedrag in euro's in, bijvoorbeeld 14,95 (of 0)."),
                "invalid": _("Vul een minimumbedrag in euro's in, bijvoorbeeld 14,95."),
                "negative": _("Een minimumbedrag kan niet negatief zijn."),
                "high": _("Dit minimumbedrag is onwaarschijnlijk hoog.")}
    return {"empty": _("Vul een bedrag in euro's in, bijvoorbeeld 14,95 (of 0)."),
            "invalid": _("Vul een bedrag in euro's in, bijvoorbeeld 14,95."),
            "negative": _("Een bedrag kan niet negatief zijn."),
            "high": _("Dit bedrag is onwaarschijnlijk hoog.")}


def euros(text: str | None, what: str = "bedrag") -> Decimal:
    """A non-negative amount in euros with at most two decimals ('14,95' or '14.95')."""
    value = (text or "").strip().replace("€", "").strip()
    if not value:
        raise ValidationError(_euro_messages(what)["empty"])
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_euro_messages(what)["invalid"]) from None
    if not amount.is_finite():
        raise ValidationError(_euro_messages(what)["invalid"])
    if amount < 0:
        raise ValidationError(_euro_messages(what)["negative"])
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(_("Gebruik hoogstens twee cijfers achter de komma (centen)."))
    if amount > Decimal("100000"):
        raise ValidationError(_euro_messages(what)["high"])
    return amount


class StepForm(Form):
    """One step of a variant (no CSRF of its own: it lives inside the policy form)."""

    name = StringField(_l("Naam"), validators=[
        DataRequired(_l("Geef de stap een naam.")),
        Length(max=60, message=_l("Hoogstens 60 tekens."))])
    channel = DutchSelectField(_l("Kanaal"),
                               choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in CHANNELS],
                               invalid=_l("Kies een kanaal uit de lijst."))
    delay_days = StringField(_l("Wachttijd (dagen)"))
    after = DutchSelectField(_l("Gerekend vanaf"), choices=AFTER_CHOICES, invalid=_l(
        "Kies 'na de vorige stap' of 'na opening van het dossier'."))
    template = DutchSelectField(_l("Tekst"), choices=[],
                                invalid=_l("Kies een tekst uit de lijst."))
    needs_approval = BooleanField(_l("Eerst goedkeuren"))
    fee = StringField(_l("Tarief (€, excl. btw)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = [SelectChoice("", _("standaard voor het kanaal"))] + [
            SelectChoice(name, template_label(name)) for name in message_templates()]

    def validate_delay_days(self, field: StringField) -> None:
        whole_days(field.data)

    def validate_fee(self, field: StringField) -> None:
        euros(field.data, "tarief")


class PolicyForm(FlaskForm):
    """The whole policy; structural buttons (add, remove, move up) post it too."""

    start_after_days = StringField(_l("Dossier openen na (dagen te laat)"))
    minimum_amount = StringField(_l("Minimumbedrag per factuur (€)"))
    consumer = FieldList(FormField(StepForm), min_entries=1, max_entries=MAX_STEPS)
    business = FieldList(FormField(StepForm), min_entries=1, max_entries=MAX_STEPS)

    def __init__(self, *args: Any, templates: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Texts in use that are not files (a company's own templates) stay choosable.
        extra = sorted(set(templates or []) - set(message_templates()))
        for entry in [*self.consumer.entries, *self.business.entries]:
            entry.form.template.choices = [
                *entry.form.template.choices,
                *(SelectChoice(name, template_label(name)) for name in extra)]

    def validate_start_after_days(self, field: StringField) -> None:
        whole_days(field.data)

    def validate_minimum_amount(self, field: StringField) -> None:
        euros(field.data, "minimumbedrag")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for variant in (self.consumer, self.business):
            last = len(variant.entries) - 1
            for number, entry in enumerate(variant.entries):
                step = entry.form
                if step.channel.data == "handover" and number != last:
                    step.channel.errors = [*step.channel.errors,
                                           _("'Klaar voor overdracht' kan alleen de laatste "
                                             "stap zijn.")]
                    ok = False
                if step.template.data and step.channel.data == "handover":
                    step.template.errors = [*step.template.errors,
                                            _("Overdracht verstuurt niets; laat de tekst op "
                                              "standaard staan.")]
                    ok = False
        return ok

    def to_json(self) -> dict[str, Any]:
        """The submitted policy in the shape :func:`parse_policy` reads (call after validate)."""
        def steps(variant: str) -> list[dict[str, Any]]:
            out = []
            for entry in getattr(self, variant).entries:
                step = entry.form
                channel = step.channel.data
                out.append({
                    "name": step.name.data.strip(),
                    "channel": channel,
                    "delay_days": whole_days(step.delay_days.data),
                    "after": step.after.data,
                    "template": step.template.data or default_template(channel, variant),
                    "needs_approval": bool(step.needs_approval.data),
                    "fee": f"{euros(step.fee.data, 'tarief'):.2f}",
                })
            return out

        return {
            "start_after_days": whole_days(self.start_after_days.data),
            "minimum_amount": f"{euros(self.minimum_amount.data, 'minimumbedrag'):.2f}",
            "consumer": steps("consumer"),
            "business": steps("business"),
        }


def policy_form_data(data: dict[str, Any]) -> dict[str, Any]:
    """Stored policy JSON → form data (money with a comma, as people type it)."""
    def step(raw: dict[str, Any], variant: str) -> dict[str, Any]:
        template = raw.get("template") or ""
        if template == default_template(raw.get("channel", ""), variant):
            template = ""
        return {
            "name": raw.get("name", ""), "channel": raw.get("channel", ""),
            "delay_days": str(raw.get("delay_days", 0)), "after": raw.get("after", "previous"),
            "template": template, "needs_approval": bool(raw.get("needs_approval")),
            "fee": str(raw.get("fee", "0.00")).replace(".", ","),
        }

    return {
        "start_after_days": str(data.get("start_after_days", 14)),
        "minimum_amount": str(data.get("minimum_amount", "25.00")).replace(".", ","),
        "consumer": [step(s, "consumer") for s in data.get("consumer", [])],
        "business": [step(s, "business") for s in data.get("business", [])],
    }


class ReasonForm(FlaskForm):
    """Skip a step, hand over, exclude or include a debtor: always with a reason."""

    reason = StringField(_l("Reden"), validators=[
        DataRequired(_l("Geef een reden.")), Length(max=200, message=_l("Hoogstens 200 tekens."))])
    delivery_id = HiddenField()


class LogoForm(FlaskForm):
    """The creditor's logo for its letters: PNG or JPEG, at most 500 kB, really an image."""

    logo = FileField(_l("Logo (PNG of JPEG, hoogstens 500 kB)"), validators=[
        FileRequired(_l("Kies een bestand."))])

    def validate_logo(self, field: FileField) -> None:
        content = field.data.read(LOGO_MAX_BYTES + 1)
        if len(content) > LOGO_MAX_BYTES:
            raise ValidationError(_("Het bestand is groter dan 500 kB; verklein het logo."))
        if not content:
            raise ValidationError(_("Het bestand is leeg."))
        try:
            normalised = normalise_logo(content)
        except LogoTooLarge as exc:
            raise ValidationError(_("Het logo heeft te veel pixels (%(width)d × %(height)d); "
                                    "gebruik een kleinere afbeelding.",
                                    width=exc.size[0], height=exc.size[1])) from None
        if normalised is None:
            raise ValidationError(_("Dit is geen PNG- of JPEG-afbeelding."))
        self.content, self.mime = normalised


class LogoTooLarge(ValueError):
    """An image whose header announces more pixels than a logo can need."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__(f"{size[0]} x {size[1]} pixels")
        self.size = size


def normalise_logo(content: bytes) -> tuple[bytes, str] | None:
    """The logo, re-encoded to fit :data:`LOGO_BOX` (same format) when it is bigger; None if it
    is no PNG/JPEG.

    Raises :class:`LogoTooLarge` before decoding when the header announces too many pixels.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we refuse it below
            probe = Image.open(io.BytesIO(content))
        with probe:
            if probe.width * probe.height > LOGO_MAX_PIXELS:
                raise LogoTooLarge(probe.size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError) as exc:
        if isinstance(exc, LogoTooLarge):
            raise
        return None
    mime = image_mime(content)
    if mime is None:
        return None
    with Image.open(io.BytesIO(content)) as image:
        if image.width <= LOGO_BOX[0] and image.height <= LOGO_BOX[1]:
            return content, mime  # already letterhead size: kept as uploaded
        image.load()
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if mime == "image/png" else "RGB")
        image.thumbnail(LOGO_BOX)
        out = io.BytesIO()
        if mime == "image/png":
            image.save(out, "PNG", optimize=True)
        else:
            image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue(), mime


def image_mime(content: bytes) -> str | None:
    """The MIME type if Pillow can really open and decode the bytes as PNG or JPEG."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            image.verify()
        with Image.open(io.BytesIO(content)) as image:
            image.load()  # verify() does not decode the pixels; load() does
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return LOGO_FORMATS.get(kind or "")
