"""異動届 records: store one, find a duplicate, look one up by 受付番号 or by person."""
from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime

from legacy_sim import wareki


@dataclass(frozen=True)
class IdoRecord:
    """One 異動届 as the legacy system keeps it (its own column names and formats)."""
    shitei_no: str
    hojin_no: str
    jigyosho_mei: str
    jigyosho_shozai: str
    kana_shimei: str
    shimei: str
    sei_ymd: str
    kojin_no: str
    jusho: str
    nenzei: int
    choshuzumi: int
    michoshu: int
    ido_ymd: str
    ido_jiyu: str
    choshu_hoho: str


RECORD_COLUMNS = tuple(f.name for f in fields(IdoRecord))


@dataclass(frozen=True)
class StoredRecord:
    uketsuke_no: str
    record: IdoRecord
    registered_by: str
    registered_at: str


def _stored(row: sqlite3.Row) -> StoredRecord:
    record = IdoRecord(**{name: row[name] for name in RECORD_COLUMNS})
    return StoredRecord(row["uketsuke_no"], record, row["registered_by"], row["registered_at"])


def find_duplicate(conn: sqlite3.Connection, record: IdoRecord) -> str | None:
    """受付番号 of a record with the same 指定番号 + 個人番号 + 異動年月日, if any."""
    row = conn.execute(
        "SELECT uketsuke_no FROM ido_todoke WHERE shitei_no = ? AND kojin_no = ? AND ido_ymd = ? ORDER BY id LIMIT 1",
        (record.shitei_no, record.kojin_no, record.ido_ymd)).fetchone()
    return row["uketsuke_no"] if row else None


def receipt_number(record_id: int, today: date) -> str:
    era, year = wareki.era_of(today)
    return f"{era.letter}{year:02d}-{record_id:06d}"


def insert_record(conn: sqlite3.Connection, record: IdoRecord, user_id: str, *, forced: bool,
                  now: datetime) -> str:
    values = asdict(record)
    columns = ", ".join([*RECORD_COLUMNS, "forced_duplicate", "registered_by", "registered_at"])
    marks = ", ".join("?" for _ in range(len(RECORD_COLUMNS) + 3))
    cursor = conn.execute(f"INSERT INTO ido_todoke ({columns}) VALUES ({marks})",
                          [*(values[name] for name in RECORD_COLUMNS), int(forced), user_id,
                           now.isoformat(timespec="seconds")])
    record_id = int(cursor.lastrowid or 0)
    uketsuke_no = receipt_number(record_id, now.date())
    conn.execute("UPDATE ido_todoke SET uketsuke_no = ? WHERE id = ?", (uketsuke_no, record_id))
    return uketsuke_no


def find_by_receipt(conn: sqlite3.Connection, uketsuke_no: str) -> StoredRecord | None:
    row = conn.execute("SELECT * FROM ido_todoke WHERE uketsuke_no = ?", (uketsuke_no,)).fetchone()
    return _stored(row) if row else None


def search_by_person(conn: sqlite3.Connection, shitei_no: str, kana_prefix: str, sei_ymd: str) -> list[StoredRecord]:
    """Like the old screens: 指定番号 and 生年月日 exact, カナ氏名 前方一致."""
    escaped = kana_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        "SELECT * FROM ido_todoke WHERE shitei_no = ? AND sei_ymd = ? AND kana_shimei LIKE ? ESCAPE '\\' "
        "ORDER BY id", (shitei_no, sei_ymd, escaped + "%")).fetchall()
    return [_stored(row) for row in rows]


def count_records(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM ido_todoke").fetchone()[0])
