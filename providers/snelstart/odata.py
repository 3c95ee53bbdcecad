"""The OData bits we send SnelStart: the ``modifiedOn`` filter and its timestamps.

SnelStart's spec types its query options as ``System.Web.Http.OData`` (OData v3) but links the
v4 URL conventions. A client known to work sends the v4 literal (``modifiedOn ge
2025-03-01T10:15:30.0000000+00:00``); we send that form. Whether ``modifiedOn`` comes back with an
offset or as a bare local time is UNCERTAIN, so a watermark keeps the server's own form: a bare
value is sent back bare, an offset value with its offset, and the server compares like with like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from providers.zones import AMSTERDAM


@dataclass(frozen=True)
class Stamp:
    """A ``modifiedOn`` value as the server wrote it: naive (server local time) or aware."""

    moment: datetime

    @classmethod
    def parse(cls, raw: object) -> Stamp | None:
        if not isinstance(raw, str) or not raw.strip():
            return None
        text = raw.strip().replace("Z", "+00:00")
        # .NET writes up to seven fractional digits; Python reads at most six.
        head, dot, rest = text.partition(".")
        if dot:
            digits = re.match(r"\d*", rest).group()  # type: ignore[union-attr]
            zone = rest[len(digits):]
            text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
        try:
            return cls(datetime.fromisoformat(text))
        except ValueError:
            return None

    @property
    def utc(self) -> datetime:
        """For comparing and logging: a bare value is read as Amsterdam time (UNCERTAIN)."""
        moment = self.moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=AMSTERDAM)
        return moment.astimezone(UTC)

    def minus(self, delta: timedelta) -> Stamp:
        return Stamp(self.moment - delta)

    def literal(self) -> str:
        """The v4 literal, seven fractional digits like .NET, offset only where there was one."""
        text = self.moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
        if self.moment.tzinfo is not None:
            offset = self.moment.strftime("%z")
            text += f"{offset[:3]}:{offset[3:]}"
        return text

    def dump(self) -> str:
        return self.moment.isoformat()


def later(a: Stamp | None, b: Stamp | None) -> Stamp | None:
    if a is None or b is None:
        return a or b
    return a if a.utc >= b.utc else b


def modified_since(stamp: Stamp | None) -> str | None:
    """The ``$filter`` for records changed at or after ``stamp``; None lists everything."""
    return None if stamp is None else f"modifiedOn ge {stamp.literal()}"
