"""Storage: migrations match the models, the event log is append-only, secrets are encrypted."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from connector import ConfigurationError, check_settings, events
from connector.config import Settings, load_settings
from connector.crypto import DecryptionFailed, SecretBox, generate_key
from connector.db import Database
from connector.models import Base, Event, Grant
from connector.platforms import build_registry


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_event_log_is_append_only(database_url):
    db = Database(database_url)
    with db.session() as session:
        events.record(session, "test.kind", "Iets gebeurde")
    with pytest.raises(DBAPIError), db.session() as session:
        session.execute(text("UPDATE events SET message = 'changed'"))
    with pytest.raises(DBAPIError), db.session() as session:
        session.execute(text("DELETE FROM events"))
    with db.session() as session:
        assert session.query(Event).one().message == "Iets gebeurde"
    db.dispose()


def test_tokens_are_stored_encrypted_and_keys_rotate(database_url):
    old, new = generate_key(), generate_key()
    db = Database(database_url)
    box = SecretBox([old])
    with db.session() as session:
        session.add(Grant(provider="moneybird", access_token_enc=box.encrypt("access-123")))
    with db.session() as session:
        stored = session.query(Grant).one().access_token_enc
    assert "access-123" not in stored
    rotated = SecretBox([new, old])
    assert rotated.decrypt(stored) == "access-123"
    assert SecretBox([new]).decrypt(rotated.rotate(stored)) == "access-123"
    with pytest.raises(DecryptionFailed):
        SecretBox([new]).decrypt(stored)
    db.dispose()


def test_settings_from_environment():
    settings = load_settings({
        "DATABASE_URL": "postgresql+psycopg://db/connector", "PUBLIC_URL": "https://pi.example/",
        "TOKEN_ENCRYPTION_KEYS": "k1, k2", "MONEYBIRD_BASE_URL": "http://127.0.0.1:5001/",
    })
    assert settings.public_url == "https://pi.example"
    assert settings.token_encryption_keys == ("k1", "k2")
    assert build_registry(settings).get("moneybird").base_url == "http://127.0.0.1:5001"
    assert settings.session_cookie_secure
    assert load_settings({}).ledger("moneybird")["MONEYBIRD_BASE_URL"] == "https://moneybird.com"
    assert load_settings({"EXACT_RATE_WINDOW": " 4 "}).ledger("exact_online")[
        "EXACT_RATE_WINDOW"] == "4"


def test_demo_secrets_refused_off_loopback():
    check_settings(Settings(allow_demo_secrets=True))  # connector demo on 127.0.0.1
    with pytest.raises(ConfigurationError, match="demo"):
        check_settings(Settings(public_url="https://connector.partner.example",
                                allow_demo_secrets=True))
    own = Settings(public_url="https://connector.partner.example", secret_key="s" * 32,
                   token_encryption_keys=(generate_key(),))
    with pytest.raises(ConfigurationError, match=r"MONEYBIRD_CLIENT_SECRET.*demo values"):
        check_settings(own)  # the ledgers' public demo values, reachable from elsewhere
    for plugin in own.plugins:
        own = own.with_ledger(plugin.key, **{s.env: f"own-{s.env.lower()}"
                                             for s in plugin.settings if s.demo_default})
    assert own.demo_ledger_settings == []
    check_settings(own)
