"""The encrypted token store: hands providers a valid access token, refreshing safely.

How a failed refresh is met follows :mod:`connector.ledger_errors`: a refused refresh token
marks the grant here (the caller that ran into it tells the creditor, see
:func:`connector.notify.report_dead_grant`); a refresh refused as too early is passing.

A refresh happens under a row lock on the grant (``SELECT … FOR UPDATE`` on PostgreSQL, a
process lock on SQLite, which serves one process). After taking the lock the tokens are read
again: if another worker already refreshed, its token is used instead of spending the refresh
token a second time. The new pair is committed before the lock is released, and whatever the
token endpoint returned is stored (a rotated refresh token replaces the old one).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.crypto import SecretBox
from connector.db import Database
from connector.models import Grant, GrantStatus, utcnow
from providers.base import Provider, ReconnectRequired, RefreshTooEarly, TokenSet, Transient

_process_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
# The clock tokens are judged by; tests that run a platform's clock faster replace it.
clock: Callable[[], datetime] = utcnow


def store_tokens(grant: Grant, tokens: TokenSet, box: SecretBox) -> None:
    """Store whatever pair the token endpoint returned (a rotated refresh token replaces ours)."""
    now = clock()
    grant.access_token_enc = box.encrypt(tokens.access_token)
    if tokens.refresh_token:
        grant.refresh_token_enc = box.encrypt(tokens.refresh_token)
    grant.expires_at = now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    grant.scope = tokens.scope or grant.scope
    grant.refreshed_at = now


def reconnect_reason(exc: ReconnectRequired) -> str:
    """What the creditor reads on the settings page: the cause, and what to do."""
    if exc.missing_scope:
        return (f"Het boekhoudpakket geeft geen toegang tot '{exc.missing_scope}'. Koppel opnieuw "
                "en sta die toegang toe.")
    return "De toegang is ingetrokken of verlopen. Koppel opnieuw om verder te gaan."


def mark_reconnect_needed(session: Session, grant: Grant, reason: str) -> None:
    """Stop using a grant until the creditor connects again; say why on the settings page."""
    if grant.status == GrantStatus.RECONNECT_NEEDED and grant.status_reason == reason:
        return
    grant.status = GrantStatus.RECONNECT_NEEDED.value
    grant.status_reason = reason[:200]
    for connection in grant.connections:
        events.record(session, "connection.reconnect_needed", reason,
                      company_id=connection.company_id, subject_type="grant",
                      subject_id=grant.id)


def _expiring(expires_at: datetime | None, margin: int) -> bool:
    return expires_at is not None and expires_at - timedelta(seconds=margin) <= clock()


class GrantTokens:
    """A :class:`providers.base.TokenSource` backed by one row of ``grants``."""

    def __init__(self, db: Database, box: SecretBox, provider: Provider, grant_id: str) -> None:
        self.db = db
        self.box = box
        self.provider = provider
        self.grant_id = grant_id
        self.margin = provider.info.refresh_margin_seconds

    def access_token(self) -> str:
        with self.db.session() as session:
            grant = session.get(Grant, self.grant_id)
            if grant is None or grant.status != GrantStatus.ACTIVE:
                raise ReconnectRequired("connection needs to be authorised again")
            if not _expiring(grant.expires_at, self.margin) and grant.access_token_enc:
                return self.box.decrypt(grant.access_token_enc)
        return self._refresh(rejected=None)

    def keep_alive(self, older_than: timedelta) -> bool:
        """Refresh a grant that has not been refreshed for a while (e.g. a refresh token
        that expires unused after 30 days)."""
        with self.db.session() as session:
            grant = session.get(Grant, self.grant_id)
            if grant is None or grant.status != GrantStatus.ACTIVE or grant.refreshed_at is None:
                return False
            if grant.refreshed_at > clock() - older_than or not grant.refresh_token_enc:
                return False
            current = self.box.decrypt(grant.access_token_enc) if grant.access_token_enc else ""
        self._refresh(rejected=current)
        return True

    def refresh_after_rejection(self, rejected_token: str) -> str:
        return self._refresh(rejected=rejected_token)

    def _refresh(self, rejected: str | None) -> str:
        failure: ReconnectRequired | None = None
        with _process_locks[self.grant_id], self.db.session() as session:
            grant = session.execute(
                select(Grant).where(Grant.id == self.grant_id).with_for_update()
            ).scalar_one_or_none()
            if grant is None or grant.status != GrantStatus.ACTIVE:
                raise ReconnectRequired("connection needs to be authorised again")
            current = self.box.decrypt(grant.access_token_enc) if grant.access_token_enc else None
            if current is not None:
                if rejected is not None and current != rejected:
                    return current  # another caller refreshed while we waited for the lock
                if rejected is None and not _expiring(grant.expires_at, self.margin):
                    return current
            if not grant.refresh_token_enc:
                failure = ReconnectRequired("no refresh token; connect again")
            else:
                try:
                    tokens = self.provider.refresh(self.box.decrypt(grant.refresh_token_enc))
                except ReconnectRequired as exc:
                    failure = exc  # the table: mark the grant (the caller tells the creditor)
                except RefreshTooEarly:
                    if current is None or rejected == current:
                        # Refused although the platform says our token is fresh: the table's
                        # backoff, through the caller, as for any passing failure.
                        raise Transient("token refresh refused as too early") from None
                    return current  # the current token keeps working until then
                else:
                    store_tokens(grant, tokens, self.box)
                    return tokens.access_token
            mark_reconnect_needed(session, grant, reconnect_reason(failure))
        raise failure
