"""The connect flow: /connect/<slug> → the platform's consent → choose tenants → settings.

``/connect/<slug>`` is stable so a marketplace listing can link to it. The same flow signs
a creditor in again: tenants it already connected are reached through the new grant at once.
A ledger connected with a key (``auth_kind`` "client-key") asks for the key on our own page
instead of sending the creditor to a consent page; after that the flow is the same.
"""

from __future__ import annotations

import secrets
from typing import cast

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from connector import connections
from connector.web.access import actor, grant_companies, services
from connector.web.filters import tenant_word
from connector.web.forms import ChooseTenantsForm, ConnectKeyForm
from connector.web.ledgers import plugin_for_slug, region_names
from providers.base import (
    KeyProvider,
    LedgerError,
    Provider,
    ReconnectRequired,
    Tenant,
    TokenSet,
    Transient,
    UnknownRegion,
)
from providers.plugin import LedgerPlugin
from providers.registry import UnknownProvider

bp = Blueprint("connect", __name__)
KEY_AUTH = "client-key"  # ProviderInfo.auth_kind of ledgers connected with a pasted key


def _provider(plugin: LedgerPlugin, region: str | None = None) -> Provider:
    try:
        return services().provider_for(plugin.key, region)
    except (UnknownProvider, UnknownRegion):
        abort(404)


def _redirect_uri(slug: str) -> str:
    return f"{services().settings.public_url}{url_for('connect.callback', slug=slug)}"


@bp.route("/connect/<slug>", methods=["GET", "POST"])
def start(slug: str) -> str | Response | tuple[str, int]:
    plugin = plugin_for_slug(slug)
    provider = _provider(plugin)
    if provider.info.auth_kind == KEY_AUTH:
        return _connect_with_key(plugin, cast(KeyProvider, provider))
    if request.method != "GET":
        abort(405)
    region = request.args.get("region")
    if plugin.regions and region is None:
        return render_template("web/choose_region.html", provider=provider.info,
                               slug=plugin.slug, regions=region_names(plugin),
                               default=plugin.default_region)
    provider = _provider(plugin, region)
    state = secrets.token_urlsafe(24)
    session["oauth_state"] = {"state": state, "slug": plugin.slug, "region": region}
    return redirect(provider.authorization_url(_redirect_uri(plugin.slug), state))


def _connect_with_key(plugin: LedgerPlugin, provider: KeyProvider) -> str | Response | \
        tuple[str, int]:
    """The creditor pastes the key the platform gave it; it is traded for tokens, kept only
    encrypted (as the grant's refresh token), and never shown again or logged."""
    form = ConnectKeyForm()
    refused = None
    if form.validate_on_submit():
        key = (form.key.data or "").strip()
        form.key.data = ""
        try:
            return _grant_and_choose(plugin, provider, key)
        except ReconnectRequired:
            refused = _("%(platform)s accepteert deze sleutel niet. Controleer of u de hele "
                        "sleutel heeft geplakt, of maak een nieuwe aan.",
                        platform=plugin.display_name)
        except Transient:
            refused = _("%(platform)s is nu niet bereikbaar. Probeer het over een paar minuten "
                        "opnieuw.", platform=plugin.display_name)
        except LedgerError:
            refused = _("Koppelen lukte niet. Probeer het opnieuw of neem contact met ons op.")
    status = 400 if request.method == "POST" else 200
    return render_template("web/connect_key.html", form=form, provider=provider.info,
                           slug=plugin.slug, help_template=plugin.key_help_template,
                           refused=refused), status


def _grant_and_choose(plugin: LedgerPlugin, provider: KeyProvider, key: str) -> Response:
    tokens = provider.exchange_key(key)
    # The key plays the refresh token's part: refreshing trades it again.
    tokens = TokenSet(tokens.access_token, key, tokens.expires_in, tokens.scope)
    svc = services()
    grant_id = connections.create_grant(svc, provider.info.key, tokens)
    tenants = connections.list_tenants(svc, grant_id)
    return _choose_next(plugin, grant_id, tenants)


def _choose_next(plugin: LedgerPlugin, grant_id: str, tenants: list[Tenant]) -> Response:
    # Tenants this creditor already connected: proven by this grant, so sign in to them.
    grant_companies(connections.companies_for_tenants(services(), grant_id, tenants))
    session["pending_grant"] = {
        "grant_id": grant_id, "slug": plugin.slug,
        "tenants": [[t.id, t.name, t.suspended] for t in tenants],
    }
    return redirect(url_for("connect.choose"))


@bp.get("/oauth/<slug>/callback")
def callback(slug: str) -> str | Response | tuple[str, int]:
    expected = session.pop("oauth_state", None) or {}
    plugin = plugin_for_slug(slug)
    provider = _provider(plugin, expected.get("region"))
    if expected.get("slug") != plugin.slug or not secrets.compare_digest(
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
        tokens = provider.exchange_code(code, _redirect_uri(plugin.slug))
        grant_id = connections.create_grant(svc, provider.info.key, tokens,
                                            region=expected.get("region"))
        tenants = connections.list_tenants(svc, grant_id)
    except LedgerError as exc:
        return render_template("web/connect_error.html", provider=provider.info,
                               reason=_("Koppelen lukte niet: %(error)s", error=exc)), 502
    return _choose_next(plugin, grant_id, tenants)


@bp.route("/connect/choose", methods=["GET", "POST"])
def choose() -> str | Response:
    pending = session.get("pending_grant")
    if not pending:
        return redirect(url_for("home.index"))
    svc = services()
    provider = _provider(plugin_for_slug(pending["slug"]))
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
