"""The Xero emulator's error answers, shaped like Xero's."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API answer other than success: status, Xero-shaped body, extra headers."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 message: str = "") -> None:
        super().__init__(message or f"HTTP {status}")
        self.status, self.body, self.headers = status, body, headers or {}


def validation_error(message: str) -> ApiError:
    """Xero's 400: ``ValidationException`` with the message in ``Elements``."""
    return ApiError(400, {"ErrorNumber": 10, "Type": "ValidationException",
                          "Message": "A validation exception occurred",
                          "Elements": [{"ValidationErrors": [{"Message": message}]}]},
                    message=message)


def problem(status: int, title: str, detail: str) -> ApiError:
    """401/403 as Xero's gateway answers them (RFC 7807-like, reference next-ledgers §1)."""
    return ApiError(status, {"Type": None, "Title": title, "Status": status, "Detail": detail,
                             "Instance": None, "Extensions": {}}, message=detail)
