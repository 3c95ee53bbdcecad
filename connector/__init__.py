"""The pre-incasso connector: a Flask app factory; the rest lives in the submodules."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from connector.config import Settings, load_settings
from connector.resources import PACKAGE_DIR, TEMPLATES
from connector.services import Services

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
__all__ = ["TEMPLATES", "ConfigurationError", "check_settings", "create_app"]


class ConfigurationError(Exception):
    """Settings that would be unsafe or cannot work."""


def check_settings(settings: Settings) -> None:
    """Refuse the public demo secrets outside ``connector demo`` (and off loopback even there):
    a cookie signed with a published key would open the console. The ledgers' demo values
    (``Setting.demo_default``) are refused off loopback."""
    host = urlsplit(settings.public_url).hostname or ""
    if settings.uses_demo_secrets and not settings.allow_demo_secrets:
        raise ConfigurationError(
            "SECRET_KEY and TOKEN_ENCRYPTION_KEYS still hold the public demo values; only "
            "`connector demo` may use them. Set your own: SECRET_KEY (a long random string) and "
            "TOKEN_ENCRYPTION_KEYS (`connector keygen`), see README"
        )
    if settings.uses_demo_secrets and host not in LOOPBACK_HOSTS:
        raise ConfigurationError(
            "SECRET_KEY and TOKEN_ENCRYPTION_KEYS still hold the public demo values while "
            f"PUBLIC_URL is {settings.public_url}; set your own (see README)"
        )
    # A ledger's public demo values (the emulators' client secrets, a webhook secret anyone can
    # sign with) only work on this machine: reachable from elsewhere, they are refused.
    demo_values = settings.demo_ledger_settings
    if demo_values and host not in LOOPBACK_HOSTS:
        raise ConfigurationError(
            f"{', '.join(demo_values)} still hold the public demo values while PUBLIC_URL is "
            f"{settings.public_url}; only `connector demo` and tests on this machine may use "
            "them. Set the values of your own app at each platform (see README)"
        )


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    from connector.logs import ensure_logging

    ensure_logging()  # e.g. under `gunicorn 'connector:create_app()'`: our set-up, not none
    settings = settings or (services.settings if services else load_settings())
    check_settings(settings)
    services = services or Services.from_settings(settings)
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=str(PACKAGE_DIR / "web" / "static"),
        instance_path=settings.data_dir,  # never inside the installed package
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["connector"] = services
    if settings.trusted_proxies:
        from connector.web.proxies import TrustedProxyFix

        app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]

    from connector.web import register

    register(app)
    return app
