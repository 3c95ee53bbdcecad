"""The emulator's API handlers: one method per SnelStart operation the connector uses.

Each returns ``(status, body)`` in SnelStart's shapes; :class:`ApiError` answers an error.
Called under the emulator's lock.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import flask

from providers.snelstart import emulator_data as data
from providers.snelstart.emulator_odata import QueryError, compile_filter, paging

Result = tuple[int, Any]


class ApiError(Exception):
    """Answers a request with ``status`` and SnelStart's list-of-errors body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

GUID = r"[0-9a-fA-F-]{36}"
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def _ref(kind: str, value: str | None) -> dict[str, str] | None:
    return None if value is None else {"id": value, "uri": f"/{kind}/{value}"}


class Handlers:
    def __init__(self, emulator: Any) -> None:
        """``emulator``: the SnelStartEmulator that owns these handlers (it imports this module,
        so it is not named as a type here)."""
        self.emu = emulator
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., Result]]] = [
            ("GET", re.compile(r"companyInfo"), "settings:read", self.company_info),
            ("GET", re.compile(r"echo/(?P<text>.*)"), "", self.echo),
            ("GET", re.compile(r"verkoopfacturen"), "orders:read", self.invoices),
            ("GET", re.compile(rf"verkoopfacturen/(?P<id>{GUID})"), "orders:read", self.invoice),
            ("GET", re.compile(r"relaties"), "relaties:read", self.relations),
            ("GET", re.compile(rf"relaties/(?P<id>{GUID})"), "relaties:read", self.relation),
            ("GET", re.compile(r"dagboeken"), "boekhouden:read", self.journals),
            ("GET", re.compile(rf"documenten/Verkoopboekingen/(?P<pid>{GUID})"),
             "documenten:read", self.documents),
            ("POST", re.compile(r"documenten/Verkoopboekingen"), "documenten:write",
             self.add_document),
            ("GET", re.compile(r"bankboekingen"), "bankieren:read", self.bank_bookings),
            ("POST", re.compile(r"bankboekingen"), "bankieren:write", self.add_bank_booking),
        ]

    def dispatch(self, method: str, rest: str, adm_id: str) -> Result:
        for verb, pattern, scope, handler in self.routes:
            match = pattern.fullmatch(rest)
            if match and verb == method:
                if scope in self.emu.scopes_missing:
                    return 403, {}
                try:
                    return handler(self.emu.adm(adm_id), **match.groupdict())
                except QueryError as exc:
                    raise ApiError(400, str(exc)) from None
        raise ApiError(404, "onbekende resource")

    # -- rendering ------------------------------------------------------------------------

    def render_invoice(self, inv: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": inv["id"], "uri": f"/verkoopfacturen/{inv['id']}",
            "factuurnummer": inv["factuurnummer"],
            "factuurDatum": data.day_stamp(inv["factuurDatum"]),
            "vervalDatum": data.day_stamp(inv["vervalDatum"]),
            "factuurBedrag": data.money(inv["factuurBedrag"]),
            "openstaandSaldo": data.money(inv["openstaandSaldo"]),
            "modifiedOn": self.emu.stamp(inv["modifiedOn"]),
            "relatie": _ref("relaties", inv["relatie"]),
            "verkoopBoeking": _ref("verkoopboekingen", inv["verkoopBoeking"]),
            "verkoopOrders": [],
        }

    def render_relation(self, rel: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in rel.items() if k != "modifiedOn"}
        out["modifiedOn"] = self.emu.stamp(rel["modifiedOn"])
        out["uri"] = f"/relaties/{rel['id']}"
        return out

    def render_booking(self, booking: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in booking.items() if k != "modifiedOn"}
        out["modifiedOn"] = self.emu.stamp(booking["modifiedOn"])
        return out

    @staticmethod
    def _field(record: dict[str, Any], name: str) -> Any:
        if name == "modifiedOn":
            return record["modifiedOn"]
        return str(record.get(name, "")).lower()

    def _listing(self, records: list[dict[str, Any]],
                 render: Callable[[dict[str, Any]], dict[str, Any]]) -> Result:
        args = flask.request.args
        skip, top = paging(args)
        keep = compile_filter(args.get("$filter"), self._field)
        chosen = [r for r in records if keep(r)]
        return 200, [render(r) for r in chosen[skip:skip + top]]

    # -- handlers -------------------------------------------------------------------------

    def company_info(self, adm: dict[str, Any]) -> Result:
        return 200, {"administratieIdentifier": adm["id"], "administratieNaam": adm["name"],
                     "bedrijfsnaam": adm["company"], "plaats": "Utrecht",
                     "kvKNummer": "12345678", "email": "administratie@example.nl"}

    def echo(self, adm: dict[str, Any], text: str) -> Result:
        return (200, text) if text else (204, None)

    def invoices(self, adm: dict[str, Any]) -> Result:
        return self._listing(list(adm["invoices"].values()), self.render_invoice)

    def invoice(self, adm: dict[str, Any], id: str) -> Result:
        inv = adm["invoices"].get(id)
        if inv is None:
            raise ApiError(404, "verkoopfactuur niet gevonden")
        return 200, self.render_invoice(inv)

    def relations(self, adm: dict[str, Any]) -> Result:
        return self._listing(list(adm["relations"].values()), self.render_relation)

    def relation(self, adm: dict[str, Any], id: str) -> Result:
        rel = adm["relations"].get(id)
        if rel is None:
            raise ApiError(404, "relatie niet gevonden")
        return 200, self.render_relation(rel)

    def journals(self, adm: dict[str, Any]) -> Result:
        return 200, [{**j, "uri": f"/dagboeken/{j['id']}"} for j in adm["journals"]]

    def documents(self, adm: dict[str, Any], pid: str) -> Result:
        if not self._booking_invoice(adm, pid):
            raise ApiError(404, "verkoopboeking niet gevonden")
        return 200, [{k: d[k] for k in ("id", "uri", "verkoopBoekingId", "fileName", "readOnly")}
                     for d in adm["documents"].values() if d["verkoopBoekingId"] == pid]

    def add_document(self, adm: dict[str, Any]) -> Result:
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "body moet een DocumentContentModel zijn")
        parent, name = body.get("parentIdentifier"), body.get("fileName")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "fileName is verplicht")
        try:
            content = base64.b64decode(str(body.get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "content is geen base64") from None
        if not content or len(content) > MAX_DOCUMENT_BYTES:
            raise ApiError(400, "content is leeg of te groot")
        if not isinstance(parent, str) or not self._booking_invoice(adm, parent):
            raise ApiError(404, "verkoopboeking niet gevonden")
        doc_id = str(uuid.uuid4())
        adm["documents"][doc_id] = {
            "id": doc_id, "uri": f"/documenten/{doc_id}", "verkoopBoekingId": parent,
            "fileName": name, "readOnly": bool(body.get("readOnly")), "content": content,
            "at": self.emu.now()}
        return 200, {"id": doc_id, "uri": f"/documenten/{doc_id}"}

    def bank_bookings(self, adm: dict[str, Any]) -> Result:
        return self._listing(list(adm["bank_bookings"].values()), self.render_booking)

    def add_bank_booking(self, adm: dict[str, Any]) -> Result:
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "body moet een BankboekingModel zijn")
        for required in ("datum", "bedragUitgegeven", "bedragOntvangen", "dagboek"):
            if body.get(required) is None:
                raise ApiError(400, f"{required} is verplicht")
        journal_id = (body["dagboek"] or {}).get("id") if isinstance(body["dagboek"], dict) \
            else None
        journal = next((j for j in adm["journals"] if j["id"] == journal_id), None)
        if journal is None or journal["soort"] != "Bank" or journal["nonactief"]:
            raise ApiError(400, "dagboek is geen actief bankdagboek")
        if len(str(body.get("omschrijving") or "")) > 250:
            raise ApiError(400, "omschrijving is langer dan 250 tekens")
        try:
            datetime.fromisoformat(str(body["datum"]))
            received = _amount(body["bedragOntvangen"]) - _amount(body["bedragUitgegeven"])
            lines = body.get("verkoopboekingBoekingsRegels") or []
            settled = []
            for line in lines:
                booking = ((line or {}).get("boekingId") or {}).get("id")
                inv = self._booking_invoice(adm, str(booking))
                if inv is None:
                    raise ApiError(400, "boekingId verwijst niet naar een verkoopboeking")
                settled.append((inv, _amount(line.get("credit")) - _amount(line.get("debet"))))
        except (TypeError, ValueError, AttributeError, InvalidOperation):
            raise ApiError(400, "ongeldige bankboeking") from None
        if sum((s for _, s in settled), Decimal("0")) != received:
            raise ApiError(400, "de regels sluiten niet aan op het ontvangen bedrag")
        for inv, amount in settled:
            inv["openstaandSaldo"] = max(inv["openstaandSaldo"] - amount, Decimal("0"))
            if self.emu.payment_moves_modified_on:
                self.emu.touch(inv)
        booking_id = str(uuid.uuid4())
        stored = {**body, "id": booking_id, "uri": f"/bankboekingen/{booking_id}",
                  "modifiedOn": self.emu.now(), "dagboek": {"id": journal_id,
                                                            "uri": f"/dagboeken/{journal_id}"}}
        adm["bank_bookings"][booking_id] = stored
        return 201, self.render_booking(stored)

    @staticmethod
    def _booking_invoice(adm: dict[str, Any], booking: str) -> dict[str, Any] | None:
        return next((i for i in adm["invoices"].values() if i["verkoopBoeking"] == booking),
                    None)


def _amount(value: Any) -> Decimal:
    if value is None:
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("amount")
    return Decimal(str(value))
