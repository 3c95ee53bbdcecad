"""Blueprints: start page, connect flow, company settings, sign-in, webhooks; UI language."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def register(app: Flask) -> None:
    from connector.web import (
        alert_settings,
        auth,
        branding,
        bulk,
        cases,
        collection,
        companies,
        connect,
        dashboard,
        demo,
        errors,
        filters,
        health,
        home,
        i18n,
        message_templates,
        operator,
        policy,
        webhooks,
    )

    csrf.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(companies.bp)
    app.register_blueprint(collection.bp)
    app.register_blueprint(message_templates.bp)
    app.register_blueprint(policy.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(branding.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(bulk.console_bp)
    app.register_blueprint(alert_settings.bp)
    csrf.exempt(webhooks.bp)
    filters.register(app)
    errors.register(app)
