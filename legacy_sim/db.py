"""The simulator's own SQLite file: users, sessions, one-time form tokens, the city's registers (宛名, 特別徴収義務者,
法人) and one table per form."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from legacy_sim.forms import FORMS, FieldDef, FormDef

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'robot',  -- robot | kanri (kanri may search by 個人番号)
    pw_salt       BLOB NOT NULL,
    pw_hash       BLOB NOT NULL,
    pw_iterations INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(user_id),
    created_at REAL NOT NULL,
    last_seen  REAL NOT NULL,
    ended_at   REAL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id, ended_at);
CREATE TABLE IF NOT EXISTS form_tokens (
    token      TEXT PRIMARY KEY,
    session_id TEXT,              -- NULL for the login form
    issued_at  REAL NOT NULL,
    used_at    REAL
);
CREATE TABLE IF NOT EXISTS atena (          -- 宛名: every taxpayer the city knows
    atena_no    TEXT PRIMARY KEY,
    kana_shimei TEXT NOT NULL,              -- 半角カナ
    shimei      TEXT NOT NULL,
    sei_ymd     TEXT NOT NULL,              -- 元号コード + YYMMDD
    jusho       TEXT NOT NULL,
    kojin_no    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS atena_kana_sei ON atena (kana_shimei, sei_ymd);
CREATE INDEX IF NOT EXISTS atena_kojin_no ON atena (kojin_no);
CREATE TABLE IF NOT EXISTS tokucho_gimusha (  -- 特別徴収義務者
    shitei_no TEXT PRIMARY KEY,
    hojin_no  TEXT NOT NULL,
    meisho    TEXT NOT NULL,
    shozai    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hojin (          -- 法人
    kanri_no  TEXT PRIMARY KEY,
    hojin_no  TEXT NOT NULL UNIQUE,
    hojin_mei TEXT NOT NULL,
    kana      TEXT NOT NULL,
    shozai    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record_locks (    -- a person or corporation open for editing at one desk
    subject    TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    locked_at  REAL NOT NULL
);
"""


def _column_type(spec: FieldDef) -> str:
    return "INTEGER" if spec.kind in ("amount", "signed_amount", "check") else "TEXT"


def form_table_sql(form: FormDef) -> str:
    columns = ",\n    ".join(f"{spec.column} {_column_type(spec)}" for spec in form.fields)
    key = ", ".join(form.duplicate_key)
    return f"""
CREATE TABLE IF NOT EXISTS {form.table} (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    uketsuke_no      TEXT UNIQUE,
    {columns},
    forced_duplicate INTEGER NOT NULL DEFAULT 0,
    registered_by    TEXT NOT NULL,
    registered_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {form.table}_subject ON {form.table} ({form.subject.column});
CREATE INDEX IF NOT EXISTS {form.table}_duplicate_key ON {form.table} ({key});
"""


def init_db(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA + "".join(form_table_sql(form) for form in FORMS.values()))
        _add_new_columns(conn)


def _add_new_columns(conn: sqlite3.Connection) -> None:
    """A file made before a form gained fields gets their columns (empty for the records already there)."""
    for form in FORMS.values():
        have = {row["name"] for row in conn.execute(f"PRAGMA table_info({form.table})")}
        for spec in form.fields:
            if spec.column not in have:
                conn.execute(f"ALTER TABLE {form.table} ADD COLUMN {spec.column} {_column_type(spec)}")


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """One connection for one request, committed when the block ends without an error."""
    conn = sqlite3.connect(db_path, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, no fsync per request
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
