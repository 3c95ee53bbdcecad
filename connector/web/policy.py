"""The policy editor: steps per variant, minimum amount, start threshold, reset to default.

No JavaScript: the add, remove and move-up buttons post the whole form and get it back with the
change applied (not yet saved); only "Opslaan" stores it, after every field and then the whole
policy (:func:`parse_policy`) passed. A refused form changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector.clock import today_nl
from connector.collection.actions import save_policy
from connector.collection.cases import policy_for, settings_for
from connector.collection.fees import settle_fees
from connector.collection.policy import PolicyError, default_policy, parse_policy
from connector.models import CompanyTemplate
from connector.web.access import actor, company_or_404, login_required, operator_id, services
from connector.web.settings_forms import MAX_STEPS, PolicyForm, policy_form_data

bp = Blueprint("policy", __name__, url_prefix="/companies/<company_id>/policy")
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,60}$")
VARIANT_LABELS = {"consumer": _l("Particulieren"), "business": _l("Zakelijke debiteuren")}
NEW_STEP = {"name": "", "channel": "email", "delay_days": "7", "after": "previous",
            "template": "", "needs_approval": False, "fee": "0,00"}


def policy_version(stored: dict[str, Any] | None) -> str:
    """A fingerprint of the stored policy: the editor sends back the one it was opened with,
    so a save over someone else's newer policy is refused instead of silently lost."""
    canonical = json.dumps(stored or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _render(company: Any, form: PolicyForm, *, live: bool, version: str, draft: bool = False,
            problem: str | None = None) -> str:
    return render_template("web/policy.html", company=company, form=form, live=live,
                           draft=draft, problem=problem, variants=VARIANT_LABELS,
                           max_steps=MAX_STEPS, may_set_fees=bool(operator_id()),
                           version=version)


def _templates(db: Session, company_id: str, stored: dict[str, Any]) -> list[str]:
    """Texts the editor offers besides the files: those in use and the company's own."""
    in_use = {step.get("template") for variant in ("consumer", "business")
              for step in stored.get(variant, []) if isinstance(step, dict)}
    own = set(db.scalars(select(CompanyTemplate.name).where(
        CompanyTemplate.company_id == company_id)))
    return sorted(name for name in in_use | own
                  if name and name != "handover" and TEMPLATE_NAME.match(name))


@bp.get("")
@login_required
def edit(company_id: str) -> str:
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        settings = settings_for(db, company_id)
        form = PolicyForm(formdata=None, data=policy_form_data(settings.policy),
                          templates=_templates(db, company_id, settings.policy))
        return _render(company, form, live=settings.live,
                       version=policy_version(settings.policy))


def _restructure(draft: dict[str, Any], action: str) -> str | None:
    """Apply add/remove/up to the draft; returns a message if the action is refused."""
    verb, _sep, rest = action.partition(":")
    variant, _sep, index_text = rest.partition(":")
    if variant not in VARIANT_LABELS:
        return _("Onbekende actie.")
    steps: list[dict[str, Any]] = draft[variant]
    if verb == "add":
        if len(steps) >= MAX_STEPS:
            return _("Hoogstens %(num)d stappen.", num=MAX_STEPS)
        at = len(steps) - 1 if steps and steps[-1].get("channel") == "handover" else len(steps)
        steps.insert(at, dict(NEW_STEP))
        return None
    if (not (index_text.isascii() and index_text.isdigit()) or len(index_text) > 3
            or int(index_text) >= len(steps)):
        return _("Deze stap bestaat niet (meer).")
    index = int(index_text)
    if verb == "remove":
        if len(steps) == 1:
            return _("Er moet minstens één stap overblijven.")
        steps.pop(index)
    elif verb == "up":
        if index > 0:
            steps[index - 1], steps[index] = steps[index], steps[index - 1]
    else:
        return _("Onbekende actie.")
    return None


@bp.post("")
@login_required
def update(company_id: str) -> str | Response:
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        settings = settings_for(db, company_id)
        db.refresh(settings, with_for_update=True)  # one save at a time per company
        live, templates = settings.live, _templates(db, company_id, settings.policy)
        form = PolicyForm(templates=templates)
        current = policy_version(settings.policy)
        # The version the editor was opened with travels along through add/remove/up.
        opened = request.form.get("policy_version") or current
        action = request.form.get("action", "save")
        if action != "save":
            draft = {k: v for k, v in form.data.items() if k != "csrf_token"}
            refused = _restructure(draft, action)
            fresh = PolicyForm(formdata=None, data=draft, templates=templates)
            if refused:
                flash(refused, "error")
            return _render(company, fresh, live=live, version=opened, draft=True)
        if not form.validate_on_submit():
            return _render(company, form, live=live, version=opened,
                           problem=_("Niet opgeslagen: controleer de gemarkeerde velden."))
        if opened != current:
            # Told once: saving this form again overwrites the other change knowingly.
            return _render(company, form, live=live, version=current, problem=_(
                "Niet opgeslagen: het beleid is intussen door iemand anders gewijzigd. Uw "
                "wijzigingen staan hieronder nog. Sla opnieuw op om die andere wijziging te "
                "overschrijven, of open het beleid opnieuw om haar eerst te zien."))
        try:
            policy = parse_policy(form.to_json())
        except PolicyError as exc:
            return _render(company, form, live=live, version=opened,
                           problem=_("Niet opgeslagen: %(error)s.", error=exc))
        # the partner sets the fees: a creditor's never count (see fees.settle_fees)
        policy = settle_fees(policy, policy_for(db, company_id), may_set_fees=bool(operator_id()))
        dropped = save_policy(db, company_id, policy, actor(), today_nl())
    extra = (" " + ngettext("%(num)d geplande stap opnieuw gepland.",
                            "%(num)d geplande stappen opnieuw gepland.", dropped)
             if dropped else "")
    flash(_("Beleid opgeslagen.") + extra, "success")
    return redirect(url_for("policy.edit", company_id=company_id))


@bp.post("/reset")
@login_required
def reset(company_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        save_policy(db, company_id, default_policy(), actor(), today_nl(),
                    message="Standaardbeleid hersteld")
    flash(_("Standaardbeleid hersteld."), "success")
    return redirect(url_for("policy.edit", company_id=company_id))
