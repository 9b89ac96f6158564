"""Rotating the PII key: every sealed value of intake is re-sealed under the new key, in place, so the old key can
be dropped; values already under the new key are left alone and the repeat-caller hash does not change."""

from __future__ import annotations

import uuid

import pytest

from hotline_common import db
from hotline_common.crypto import PiiVault
from hotline_common.events.base import utcnow
from hotline_common.settings import DEV_PII_KEY
from hotline_intake import repository
from hotline_intake.app import MIGRATIONS
from hotline_intake.rotation import SEALED, rotate_table
from tests.infra import Infra

NEW_KEY = "bmV3LXBpaS1rZXktZm9yLXJvdGF0aW9uLTMyYnl0ZXM="


@pytest.mark.integration
async def test_rotation_reseals_every_sealed_value_and_the_old_key_can_go(infra: Infra) -> None:
    schema = f"test_rotation_{uuid.uuid4().hex[:10]}"
    pool = await db.create_pool(infra.admin_url, schema=schema, max_size=2)
    old, rotating, new_only = (PiiVault(DEV_PII_KEY, "lookup"), PiiVault(f"{NEW_KEY},{DEV_PII_KEY}", "lookup"),
                               PiiVault(NEW_KEY, "lookup"))
    try:
        await db.migrate(pool, schema=schema, directory=MIGRATIONS)
        async with pool.acquire() as conn:
            ids = []
            for i in range(7):  # more than a batch of 3
                case_id, now = uuid.uuid4(), utcnow()
                vault = rotating if i == 0 else old  # one case sealed under the new key already
                await repository.insert_case(
                    conn, case_id=case_id, case_number=f"1300-2569-{900000 + i}", channel="hotline",
                    category="elderly", target_group="elderly", description_enc=vault.seal(f"ยายคนที่ {i}"),
                    caller_name_enc=vault.seal("สมศรี"), caller_phone_enc=vault.seal("0812345678"),
                    national_id_enc=None, caller_phone_key=old.lookup_hash("0812345678"), status="reported",
                    reported_by="operator", created_at=now, updated_at=now)
                await repository.add_note(conn, case_id=case_id, source="operator", author="operator",
                                          body_enc=old.seal(f"โทรกลับแล้ว {i}") or b"", created_at=now)
                ids.append(case_id)

            cases = await rotate_table(conn, rotating, "cases", batch=3)
            notes = await rotate_table(conn, rotating, "case_notes", batch=3)
            assert (cases.rows, cases.values) == (6, 18)  # 6 old cases × (description, name, phone)
            assert (notes.rows, notes.values) == (7, 7)
            assert (await rotate_table(conn, rotating, "cases")).rows == 0  # nothing left to do

            for i, case_id in enumerate(ids):
                row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
                assert new_only.open(row["description_enc"]) == f"ยายคนที่ {i}"
                assert new_only.open(row["caller_phone_enc"]) == "0812345678"
                assert row["caller_phone_key"] == new_only.lookup_hash("0812345678")
                note = await conn.fetchval("SELECT body_enc FROM case_notes WHERE case_id = $1", case_id)
                assert new_only.open(note) == f"โทรกลับแล้ว {i}"
            # Every sealed column intake has is one the rotation knows: a new one left out would keep the old key.
            sealed = {(r["table_name"], r["column_name"]) for r in await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 "
                "AND data_type = 'bytea' AND column_name LIKE '%\\_enc'", schema)}
            assert sealed == {(t, c) for t, (_, cols) in SEALED.items() for c in cols}
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
