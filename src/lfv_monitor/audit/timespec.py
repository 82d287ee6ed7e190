"""``since``/``until`` values: a relative age (``30m``, ``24h``, ``7d``, ``2w``) or an ISO date
or date-time (``2026-11-01``, ``2026-11-01T08:00:00Z``, ``2026-11-01T10:00+02:00``).

Pure: the caller passes ``now``.  Dates and naive times are UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from lfv_monitor.audit.errors import InvalidTimeError

_RELATIVE = re.compile(r"^(\d{1,7})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MAX_TEXT = 64

FORMATS_HELP = "a relative age like 30m, 24h, 7d, 2w, or an ISO date/time like 2026-11-01"


def parse_instant(text: str, *, now: datetime, name: str = "since") -> datetime:
    """The instant ``text`` denotes; ``InvalidTimeError`` naming ``name`` when it is not one."""
    value = text.strip()
    if not value or len(value) > _MAX_TEXT:
        raise InvalidTimeError(f"{name}: {text!r} is not a time ({FORMATS_HELP})")
    match = _RELATIVE.match(value.lower())
    try:
        if match:
            amount, unit = int(match.group(1)), _UNITS[match.group(2)]
            return now.astimezone(UTC) - timedelta(**{unit: amount})
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except (ValueError, OverflowError):
        raise InvalidTimeError(f"{name}: {text!r} is not a time ({FORMATS_HELP})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidTimeError(f"{name}: {text!r} is out of range") from None


def parse_range(
    since: str | None, until: str | None, *, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """Both ends parsed (``None`` = open); ``InvalidTimeError`` if ``since`` is after ``until``."""
    start = parse_instant(since, now=now, name="since") if since is not None else None
    end = parse_instant(until, now=now, name="until") if until is not None else None
    check_range(start, end)
    return start, end


def check_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidTimeError(
            f"since ({since.isoformat()}) is after until ({until.isoformat()}): the range is empty"
        )
