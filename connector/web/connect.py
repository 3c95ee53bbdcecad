"""The connect flow: /connect/<platform> → the platform's consent → choose tenants → settings.

``/connect/moneybird`` is stable so a marketplace listing can link to it. The same flow signs
a creditor in again: tenants it already connected are reached through the new grant at once.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from connector import connections
from connector.web.access import actor, grant_companies, services
from connector.web.filters import tenant_word
from connector.web.forms import ChooseTenantsForm
from providers.base import LedgerError, Provider, Tenant
from providers.exact_online.regions import DEFAULT as DEFAULT_REGION
from providers.exact_online.regions import LABELS as REGION_LABELS
from providers.exact_online.regions import UnknownRegion
from providers.registry import UnknownProvider

bp = Blueprint("connect", __name__)
SLUGS = {"moneybird": "moneybird", "exact-online": "exact_online"}  # URL slug → provider key


def _provider(slug: str, region: str | None = None) -> Provider:
    try:
        return services().provider_for(SLUGS.get(slug, slug.replace("-", "_")), region)
    except (UnknownProvider, UnknownRegion):
        abort(404)


def _has_regions(provider: Provider) -> bool:
    return hasattr(provider, "for_region")


def _region_names() -> dict[str, str]:
    """Exact Online's regions by code, named in the UI's language (Babel's territory names)."""
    locale = get_locale()
    if locale is None or locale.language == "nl":
        return dict(REGION_LABELS)
    return {code: locale.territories.get("GB" if code == "uk" else code.upper(), label)
            for code, label in REGION_LABELS.items()}


def _redirect_uri(slug: str) -> str:
    return f"{services().settings.public_url}{url_for('connect.callback', slug=slug)}"


@bp.get("/connect/<slug>")
def start(slug: str) -> str | Response:
    provider = _provider(slug)
    region = request.args.get("region")
    if _has_regions(provider) and region is None:
        return render_template("web/choose_region.html", provider=provider.info, slug=slug,
                               regions=_region_names(), default=DEFAULT_REGION)
    provider = _provider(slug, region)
    state = secrets.token_urlsafe(24)
    session["oauth_state"] = {"state": state, "slug": slug, "region": region}
    return redirect(provider.authorization_url(_redirect_uri(slug), state))


@bp.get("/oauth/<slug>/callback")
def callback(slug: str) -> str | Response:
    expected = session.pop("oauth_state", None) or {}
    provider = _provider(slug, expected.get("region"))
    if expected.get("slug") != slug or not secrets.compare_digest(
        expected.get("state", ""), request.args.get("state", "")
    ):
        return render_template("web/connect_error.html", provider=provider.info,
                               reason=_("De aanvraag is verlopen of niet van deze browser. "
                                        "Probeer het opnieuw.")), 400
    if request.args.get("error"):
        reason = (_("U heeft geen toestemming gegeven.")
                  if request.args["error"] == "access_denied"
                  else _("Het boekhoudpakket gaf geen toestemming."))
        return render_template("web/connect_error.html", provider=provider.info,
                               reason=reason), 400
    code = request.args.get("code")
    if not code:
        abort(400)
    svc = services()
    try:
        tokens = provider.exchange_code(code, _redirect_uri(slug))
        grant_id = connections.create_grant(svc, provider.info.key, tokens,
                                            region=expected.get("region"))
        tenants = connections.list_tenants(svc, grant_id)
    except LedgerError as exc:
        return render_template("web/connect_error.html", provider=provider.info,
                               reason=_("Koppelen lukte niet: %(error)s", error=exc)), 502
    # Tenants this creditor already connected: proven by this grant, so sign in to them.
    grant_companies(connections.companies_for_tenants(svc, grant_id, tenants))
    session["pending_grant"] = {
        "grant_id": grant_id, "slug": slug,
        "tenants": [[t.id, t.name, t.suspended] for t in tenants],
    }
    return redirect(url_for("connect.choose"))


@bp.route("/connect/choose", methods=["GET", "POST"])
def choose() -> str | Response:
    pending = session.get("pending_grant")
    if not pending:
        return redirect(url_for("home.index"))
    svc = services()
    provider = _provider(pending["slug"])
    tenants = [Tenant(id=i, name=n, suspended=s) for i, n, s in pending["tenants"]]
    with svc.db.session() as db:
        known = connections.existing_connections(db, provider.info.key, [t.id for t in tenants])
        connected = {tid for tid, c in known.items() if c.disconnected_at is None}
    form = ChooseTenantsForm()
    form.tenants.choices = [SelectChoice(t.id, t.name) for t in tenants if not t.suspended]
    if request.method == "GET":
        form.tenants.data = [t.id for t in tenants if not t.suspended and t.id not in connected]
    if form.validate_on_submit():
        chosen = [t for t in tenants if t.id in set(form.tenants.data)]
        company_ids = connections.connect_tenants(svc, pending["grant_id"], chosen, actor())
        grant_companies(company_ids)
        session.pop("pending_grant", None)
        count = len(company_ids)
        flash(_("%(num)d %(tenants)s gekoppeld. De eerste synchronisatie loopt.", num=count,
                tenants=tenant_word(provider.info.tenant_label, plural=count != 1)), "success")
        if len(company_ids) == 1:
            return redirect(url_for("companies.show", company_id=company_ids[0]))
        return redirect(url_for("companies.index"))
    return render_template("web/choose.html", form=form, provider=provider.info,
                           tenants=tenants, connected=connected)
