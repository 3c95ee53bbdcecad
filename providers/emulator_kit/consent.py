"""The authorization endpoint's checks and its consent POST, the same for every platform.

Every emulator checks the client and its redirect URI before anything else (an unknown client
or redirect gets an error page, never a redirect), and answers the consent form alike: a
denial, or an approval that picked nothing, goes back as ``access_denied``; an approval goes
back with a fresh code. What differs is a hook or a class attribute: the messages, the form
field of the choices, which choices exist, how a code is made, extra denial parameters.
"""

from __future__ import annotations

from typing import Any

import flask

from providers.emulator_kit.oauth import error_page, redirect_with


class ConsentEndpoint:
    """Mixin: the consent GET (``oauth_authorize_get``) and POST (``oauth_authorize_post``).

    The platform sets the messages and ``consent_field`` and implements ``consent_form``,
    ``consent_choices`` and ``issue_consent_code``; ``consent_redirect`` and
    ``oauth_error_page`` may be replaced.
    """

    client_id: str
    redirect_uri: str | None
    # The three refusals, in the platform's words; ``{client_id}`` is filled in.
    unknown_client_message = "Onbekende applicatie (client_id)."
    missing_redirect_message = "De redirect_uri ontbreekt."
    wrong_redirect_message = "De redirect_uri komt niet overeen met de geregistreerde redirect URI."
    error_hint = "Controleer de instellingen van de applicatie (client_id en redirect_uri)."
    consent_field = ""  # the form field of the chosen administrations
    # The ``error_description`` of the redirects back, if the platform sends one.
    denied_description: str | None = None
    unsupported_description: str | None = None

    def client_problem(self, values: Any) -> flask.Response | None:
        """The error page when ``values`` (query or form) name an unknown client or a
        redirect URI that is missing or not the registered one; None when both are fine."""
        client_id, redirect_uri = values.get("client_id"), values.get("redirect_uri")
        if client_id != self.client_id:
            message = self.unknown_client_message.format(client_id=client_id)
        elif not redirect_uri:
            message = self.missing_redirect_message
        elif self.redirect_uri is not None and redirect_uri != self.redirect_uri:
            message = self.wrong_redirect_message
        else:
            return None
        return self.oauth_error_page(message)

    def refused_consent_request(self) -> Any:
        """The consent GET's refusals: the error page for an unknown client or redirect, a
        redirect back when ``response_type`` is not ``code``; None when the page may follow."""
        args = flask.request.args
        problem = self.client_problem(args)
        if problem is None and args.get("response_type") != "code":
            return redirect_with(args["redirect_uri"], {
                "error": "unsupported_response_type",
                "error_description": self.unsupported_description,
                "state": args.get("state"),
            })
        return problem

    def oauth_authorize_get(self) -> Any:
        """The consent form, unless the request is refused."""
        refused = self.refused_consent_request()
        return refused if refused is not None else self.consent_form(flask.request.args)

    def consent_form(self, args: Any) -> flask.Response:
        """The consent page for a checked request (``args``: its query)."""
        raise NotImplementedError

    def oauth_error_page(self, message: str) -> flask.Response:
        return error_page(message, self.error_hint)

    def consent_choices(self, chosen: list[str]) -> list[Any]:
        """The chosen values that name something the user may grant (the rest is dropped)."""
        raise NotImplementedError

    def issue_consent_code(self, form: Any, redirect_uri: str, choices: list[Any]) -> str:
        """A new single-use code for the approved ``choices``."""
        raise NotImplementedError

    def consent_redirect(self, redirect_uri: str, code: str, state: str | None) -> Any:
        return redirect_with(redirect_uri, {"code": code, "state": state})

    def oauth_authorize_post(self) -> Any:
        """Approve/deny the consent form: redirect back with a code or ``access_denied``."""
        form = flask.request.form
        problem = self.client_problem(form)
        if problem is not None:
            return problem
        redirect_uri = form["redirect_uri"]
        state = form.get("state") or None
        choices = self.consent_choices(form.getlist(self.consent_field))
        if form.get("decision") != "approve" or not choices:
            return redirect_with(redirect_uri, {
                "error": "access_denied", "error_description": self.denied_description,
                "state": state,
            })
        return self.consent_redirect(
            redirect_uri, self.issue_consent_code(form, redirect_uri, choices), state
        )
