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
        debtor,
        debtor_responses,
        demo,
        errors,
        filters,
        health,
        home,
        i18n,
        message_templates,
        operator,
        policy,
        progress,
        security,
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
    app.register_blueprint(progress.bp)
    app.register_blueprint(alert_settings.bp)
    app.register_blueprint(debtor.bp)
    app.register_blueprint(debtor_responses.bp)
    debtor_responses.register_globals(app)
    csrf.exempt(webhooks.bp)
    csrf.exempt(debtor.bp)  # checks its CSRF token itself, to answer in the debtor's language
    filters.register(app)
    errors.register(app)
    security.init_app(app)
