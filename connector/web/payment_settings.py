"""The payment settings form, made from the ledger plug-in's ``payment_fields``.

How a payment we register is booked differs per ledger (a way of booking and an account in
one, a journal and a G/L account in another); the plug-in describes its fields and checks, and
this module turns them into one Flask-WTF form. Fields the ledger lists the values of
(``from_ledger``) become a choice of the ledger's accounts where they could be loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from connector.web.settings_forms import DutchSelectField
from providers.plugin import LedgerPlugin, PaymentField

Choices = Mapping[str, list[tuple[str, str]]]  # field name → the ledger's (id, label) pairs


class PaymentSettingsForm(FlaskForm):
    """Base of every ledger's payment settings form: the plug-in's fields, then its checks."""

    plugin: LedgerPlugin | None = None

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        if self.plugin is None:
            return True
        values = self.values()
        errors: dict[str, str] = {}
        for spec in self.plugin.payment_fields:
            value = values.get(spec.name, "")
            if spec.digits_only and value and not (value.isascii() and value.isdigit()):
                errors[spec.name] = _("Een %(platform)s-id bestaat alleen uit cijfers.",
                                      platform=self.plugin.display_name)
        for name, message in self.plugin.check_payment_settings(values).items():
            errors.setdefault(name, _(message))
        for name, message in errors.items():
            self[name].errors = [*self[name].errors, message]
        return not errors

    def values(self) -> dict[str, str]:
        """The submitted values, stripped, by field name (empty: left unset)."""
        return {name: (field.data or "").strip() for name, field in self._fields.items()
                if name != "csrf_token"}


def payment_settings_form_class(plugin: LedgerPlugin | None, choices: Choices | None = None,
                                stored: Mapping[str, Any] | None = None) -> type[FlaskForm]:
    """The form for ``plugin``'s payment settings; ``choices``: what the ledger listed (each
    such field becomes a choice of its accounts; a value stored earlier that the ledger no
    longer lists stays choosable, marked)."""
    fields: dict[str, Any] = {"plugin": plugin}
    for spec in plugin.payment_fields if plugin is not None else ():
        options = (choices or {}).get(spec.name) if spec.from_ledger else None
        if options is not None:
            fields[spec.name] = _ledger_choice(spec, options, (stored or {}).get(spec.name))
        else:
            fields[spec.name] = _typed(spec)
    return type("PaymentSettingsFormFor", (PaymentSettingsForm,), fields)


def _typed(spec: PaymentField) -> Field:
    if spec.choices:
        return SelectField(_l(spec.label), validators=[Optional()], choices=[
            SelectChoice(value, _l(label)) for value, label in spec.choices])
    length = [Length(max=spec.max_length)] if spec.max_length else []
    return StringField(_l(spec.label), validators=[Optional(), *length])


def _ledger_choice(spec: PaymentField, options: list[tuple[str, str]],
                   stored: object) -> DutchSelectField:
    listed = [SelectChoice("", _l("— geen —")),
              *(SelectChoice(value, label) for value, label in options)]
    current = str(stored or "")
    if current and current not in {value for value, _label in options}:
        listed.append(SelectChoice(current, _("%(id)s (niet meer in de administratie)",
                                              id=current)))
    return DutchSelectField(_l(spec.choice_label or spec.label), choices=listed, default="",
                            invalid=_l("Kies een rekening uit de lijst van uw administratie."))
