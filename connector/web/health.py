"""/healthz and /metrics: is the database there, do workers live, what is the work doing.

Metrics come from the database, so every web process reports the same numbers whichever
worker did the work: syncs by outcome, API calls by platform (from the sync history), deliveries
by channel and state, ledger writes and queue lengths, lease take-overs.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from connector import leases
from connector.models import (
    Company,
    Delivery,
    Event,
    LedgerWrite,
    SyncRun,
    utcnow,
)
from connector.web.access import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    svc = services()
    try:
        with svc.db.session() as db:
            db.execute(text("SELECT 1"))
            fresh = leases.live_workers(db)
    except Exception:  # the database is what we are checking
        return jsonify(database="unreachable", workers=None), 503
    status = 200 if fresh else 503
    return jsonify(database="ok", workers=fresh), status


class _DatabaseCollector:
    def __init__(self) -> None:
        self.svc = services()

    def collect(self):
        with self.svc.db.session() as db:
            syncs = GaugeMetricFamily("connector_syncs", "Sync runs by platform and outcome",
                                      labels=["platform", "outcome"])
            calls = GaugeMetricFamily("connector_api_calls", "API calls made by syncs",
                                      labels=["platform", "outcome"])
            for platform, outcome, runs, used in db.execute(
                    select(Company.provider, SyncRun.outcome, func.count(),
                           func.coalesce(func.sum(SyncRun.api_calls), 0))
                    .join(Company, Company.id == SyncRun.company_id)
                    .group_by(Company.provider, SyncRun.outcome)):
                syncs.add_metric([platform, outcome], runs)
                calls.add_metric([platform, outcome], used)
            deliveries = GaugeMetricFamily("connector_deliveries",
                                           "Deliveries by channel and state",
                                           labels=["channel", "state"])
            for channel, state, count in db.execute(
                    select(Delivery.channel, Delivery.state, func.count())
                    .group_by(Delivery.channel, Delivery.state)):
                deliveries.add_metric([channel, state], count)
            writes = GaugeMetricFamily("connector_ledger_writes", "Ledger writes by kind and state",
                                       labels=["kind", "state"])
            for kind, state, count in db.execute(
                    select(LedgerWrite.kind, LedgerWrite.state, func.count())
                    .group_by(LedgerWrite.kind, LedgerWrite.state)):
                writes.add_metric([kind, state], count)
            now = utcnow()
            due = db.scalar(select(func.count()).select_from(Company).where(
                (Company.sync_requested_at.is_not(None)) | (Company.next_sync_at <= now))) or 0
            queue = GaugeMetricFamily("connector_queue_length", "Work waiting", labels=["queue"])
            queue.add_metric(["syncs_due"], due)
            queue.add_metric(["ledger_writes"], db.scalar(
                select(func.count()).select_from(LedgerWrite).where(
                    LedgerWrite.state.in_(["pending", "sending"]))) or 0)
            queue.add_metric(["deliveries_planned"], db.scalar(
                select(func.count()).select_from(Delivery).where(
                    Delivery.state == "planned")) or 0)
            takeovers = GaugeMetricFamily("connector_lease_takeovers",
                                          "Companies taken over from a worker that stopped")
            takeovers.add_metric([], db.scalar(select(func.count()).select_from(Event).where(
                Event.kind == "lease.takeover")) or 0)
            workers = GaugeMetricFamily("connector_workers_alive", "Workers with a fresh heartbeat")
            workers.add_metric([], leases.live_workers(db))
        yield from (syncs, calls, deliveries, writes, queue, takeovers, workers)


def metrics_allowed(token: str | None, client: str | None, authorization: str | None) -> bool:
    """With ``METRICS_TOKEN`` set: only ``Authorization: Bearer <token>``, from anywhere.
    Without it: only clients on this machine (loopback), e.g. a Prometheus agent beside it."""
    if token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        return bool(authorization and authorization.startswith("Bearer ")) and hmac.compare_digest(
            given.encode(), token.encode())
    try:
        return ipaddress.ip_address((client or "").split("%")[0]).is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    if not metrics_allowed(services().settings.metrics_token, request.remote_addr,
                           request.headers.get("Authorization")):
        return Response("metrics need a token (METRICS_TOKEN)", status=401,
                        mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
