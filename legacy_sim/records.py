"""Records of any form: store one, find a duplicate, look one up by 受付番号 or by its subject (宛名番号, 法人管理番号)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from legacy_sim import wareki
from legacy_sim.forms import FormDef


@dataclass(frozen=True)
class StoredRecord:
    uketsuke_no: str
    values: dict[str, object]  # column -> stored value
    registered_by: str
    registered_at: str


def _stored(form: FormDef, row: sqlite3.Row) -> StoredRecord:
    return StoredRecord(row["uketsuke_no"], {spec.column: row[spec.column] for spec in form.fields},
                        row["registered_by"], row["registered_at"])


def find_duplicate(conn: sqlite3.Connection, form: FormDef, record: dict[str, object]) -> str | None:
    """受付番号 of a record with the same duplicate-key columns, if any."""
    where = " AND ".join(f"{column} IS ?" for column in form.duplicate_key)
    row = conn.execute(f"SELECT uketsuke_no FROM {form.table} WHERE {where} ORDER BY id LIMIT 1",
                       [record[column] for column in form.duplicate_key]).fetchone()
    return row["uketsuke_no"] if row else None


def receipt_number(form: FormDef, record_id: int, today: date) -> str:
    era, year = wareki.era_of(today)
    return f"{form.receipt_letter}{era.letter}{year:02d}-{record_id:06d}"


def insert_record(conn: sqlite3.Connection, form: FormDef, record: dict[str, object], user_id: str, *,
                  forced: bool, now: datetime) -> str:
    columns = [spec.column for spec in form.fields]
    names = ", ".join([*columns, "forced_duplicate", "registered_by", "registered_at"])
    marks = ", ".join("?" for _ in range(len(columns) + 3))
    cursor = conn.execute(f"INSERT INTO {form.table} ({names}) VALUES ({marks})",
                          [*(record[column] for column in columns), int(forced), user_id,
                           now.isoformat(timespec="seconds")])
    record_id = int(cursor.lastrowid or 0)
    uketsuke_no = receipt_number(form, record_id, now.date())
    conn.execute(f"UPDATE {form.table} SET uketsuke_no = ? WHERE id = ?", (uketsuke_no, record_id))
    return uketsuke_no


def find_by_receipt(conn: sqlite3.Connection, form: FormDef, uketsuke_no: str) -> StoredRecord | None:
    row = conn.execute(f"SELECT * FROM {form.table} WHERE uketsuke_no = ?", (uketsuke_no,)).fetchone()
    return _stored(form, row) if row else None


def search_by_subject(conn: sqlite3.Connection, form: FormDef, subject: str) -> list[StoredRecord]:
    rows = conn.execute(f"SELECT * FROM {form.table} WHERE {form.subject.column} = ? ORDER BY id",
                        (subject,)).fetchall()
    return [_stored(form, row) for row in rows]


def count_records(conn: sqlite3.Connection, form: FormDef | None = None) -> int:
    from legacy_sim.forms import FORMS

    forms = [form] if form else list(FORMS.values())
    return sum(int(conn.execute(f"SELECT COUNT(*) FROM {f.table}").fetchone()[0]) for f in forms)
