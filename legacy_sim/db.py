"""The simulator's own SQLite file: users, sessions, one-time form tokens and 異動届 records."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
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
CREATE TABLE IF NOT EXISTS form_tokens (
    token      TEXT PRIMARY KEY,
    session_id TEXT,              -- NULL for the login form
    issued_at  REAL NOT NULL,
    used_at    REAL
);
CREATE TABLE IF NOT EXISTS ido_todoke (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    uketsuke_no      TEXT UNIQUE,
    shitei_no        TEXT NOT NULL,
    hojin_no         TEXT NOT NULL,
    jigyosho_mei     TEXT NOT NULL,
    jigyosho_shozai  TEXT NOT NULL,
    kana_shimei      TEXT NOT NULL,  -- 半角カナ
    shimei           TEXT NOT NULL,
    sei_ymd          TEXT NOT NULL,  -- 元号コード + YYMMDD, e.g. 3600412
    kojin_no         TEXT NOT NULL,
    jusho            TEXT NOT NULL,
    nenzei           INTEGER NOT NULL,
    choshuzumi       INTEGER NOT NULL,
    michoshu         INTEGER NOT NULL,
    ido_ymd          TEXT NOT NULL,  -- 元号コード + YYMMDD
    ido_jiyu         TEXT NOT NULL,  -- code
    choshu_hoho      TEXT NOT NULL,  -- code
    forced_duplicate INTEGER NOT NULL DEFAULT 0,
    registered_by    TEXT NOT NULL,
    registered_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ido_todoke_person ON ido_todoke (shitei_no, sei_ymd, kana_shimei);
CREATE INDEX IF NOT EXISTS ido_todoke_duplicate_key ON ido_todoke (shitei_no, kojin_no, ido_ymd);
"""


def init_db(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """One connection for one request, committed when the block ends without an error."""
    conn = sqlite3.connect(db_path, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
