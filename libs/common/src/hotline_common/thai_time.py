"""Thai time as Thai users read it: Bangkok's zone, the Buddhist-era year (พ.ศ. = ค.ศ. + 543). Stored times stay UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543  # พ.ศ. = ค.ศ. + 543


def year_be(at: datetime) -> int:
    return at.astimezone(BANGKOK).year + BE_OFFSET


def clock_th(at: datetime) -> str:
    """"03:15 น." in Bangkok time."""
    return f"{at.astimezone(BANGKOK):%H:%M} น."


def datetime_th(at: datetime) -> str:
    """"24/11/2569 03:15 น.": day/month/Buddhist-era year and Bangkok time."""
    local = at.astimezone(BANGKOK)
    return f"{local:%d/%m}/{local.year + BE_OFFSET} {local:%H:%M} น."


def start_of_day(day: date) -> datetime:
    """Midnight of a Bangkok calendar day, as an aware datetime (a date range typed by a Thai user)."""
    return datetime.combine(day, time(), BANGKOK)
