"""The directory's domain: demo centers and responders derived from the gazetteer, and account passwords."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from hotline_common.auth import Role
from hotline_common.events.registry import DEMO_SECRET_REF, AlertChannel, CenterRecord, ResponderRecord
from hotline_gazetteer import Tambon

NAMESPACE = uuid.UUID("5d1c1300-0000-4000-8000-000000001300")
DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("operator", Role.operator),
    ("responder", Role.responder),
    ("supervisor", Role.supervisor),
    ("admin", Role.admin),
    ("ops", Role.ops),
)


def center_id_for(tambon_code: str) -> uuid.UUID:
    """Stable ids, so re-seeding and every replica agree."""
    return uuid.uuid5(NAMESPACE, f"center:{tambon_code}")


def demo_center(t: Tambon) -> CenterRecord:
    place_th = "แขวง" if t.is_bangkok else "ตำบล"
    return CenterRecord(
        center_id=center_id_for(t.code),
        name_th=f"ศูนย์ช่วยเหลือสังคม{place_th}{t.name_th}",
        name_en=f"{t.name_en} Social Assistance Center",
        tambon_code=t.code,
        amphoe_code=t.amphoe_code,
        province_code=t.province_code,
        lat=t.lat,
        lon=t.lon,
    )


def demo_responder(center: CenterRecord, webhook_url: str) -> ResponderRecord:
    return ResponderRecord(
        responder_id=uuid.uuid5(NAMESPACE, f"responder:{center.tambon_code}"),
        display_name=f"อพม. ประจำ{center.name_th} (demo volunteer)",
        kind="volunteer",
        center_ids=[center.center_id],
        channels=[AlertChannel(kind="webhook", address=webhook_url, secret_ref=DEMO_SECRET_REF)],
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt from the standard library: memory-hard, no extra dependency."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, _ = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(hash_password(password, salt=bytes.fromhex(salt_hex)), stored)
