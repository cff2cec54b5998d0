"""The city's registers the forms refer to: 宛名 (taxpayers), 特別徴収義務者 (employers) and 法人 (corporations),
seeded from the shared population (samples.population) so that generated forms name people the system knows;
and the desk locks on a person or corporation being edited."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import jaconv

from legacy_sim import wareki
from samples.population import population


def hankaku(kana: str) -> str:
    return " ".join(jaconv.z2h(jaconv.hira2kata(kana), kana=True, ascii=True, digit=True).split())


def seed_registers(conn: sqlite3.Connection, seed: int) -> None:
    """Fill the registers from the population of `seed`, once (a filled register is left as it is)."""
    if conn.execute("SELECT 1 FROM atena LIMIT 1").fetchone() is not None:
        return
    pop = population(seed)
    conn.executemany(
        "INSERT INTO atena (atena_no, kana_shimei, shimei, sei_ymd, jusho, kojin_no) VALUES (?, ?, ?, ?, ?, ?)",
        [(p.atena_no, hankaku(p.kana), p.name, encode_date(p.birth), p.address, p.my_number) for p in pop.people])
    conn.executemany("INSERT INTO tokucho_gimusha (shitei_no, hojin_no, meisho, shozai) VALUES (?, ?, ?, ?)",
                     [(e.shitei_no, e.corporate_number, e.name, e.address) for e in pop.employers])
    conn.executemany("INSERT INTO hojin (kanri_no, hojin_no, hojin_mei, kana, shozai) VALUES (?, ?, ?, ?, ?)",
                     [(c.kanri_no, c.corporate_number, c.name, hankaku(c.kana), c.address)
                      for c in pop.corporations])


def encode_date(day) -> str:
    era, year = wareki.era_of(day)
    return wareki.encode(era.code, year, day.month, day.day)


@dataclass(frozen=True)
class Atena:
    atena_no: str
    kana_shimei: str
    shimei: str
    sei_ymd: str
    jusho: str
    kojin_no: str


def search_atena(conn: sqlite3.Connection, *, kana: str = "", sei_ymd: str = "", kojin_no: str = "") -> list[Atena]:
    """By 個人番号, or by カナ氏名 (完全一致, spaces ignored) and 生年月日."""
    if kojin_no:
        rows = conn.execute("SELECT * FROM atena WHERE kojin_no = ? ORDER BY atena_no", (kojin_no,)).fetchall()
    else:
        rows = conn.execute("SELECT * FROM atena WHERE REPLACE(kana_shimei, ' ', '') = ? AND sei_ymd = ? "
                            "ORDER BY atena_no", (kana.replace(" ", ""), sei_ymd)).fetchall()
    return [Atena(**dict(row)) for row in rows]


def atena_exists(conn: sqlite3.Connection, atena_no: str) -> bool:
    return conn.execute("SELECT 1 FROM atena WHERE atena_no = ?", (atena_no,)).fetchone() is not None


@dataclass(frozen=True)
class Hojin:
    kanri_no: str
    hojin_no: str
    hojin_mei: str
    kana: str
    shozai: str


def search_hojin(conn: sqlite3.Connection, *, hojin_no: str = "", kana: str = "") -> list[Hojin]:
    """By 法人番号 (完全一致) or by 法人名カナ (前方一致)."""
    if hojin_no:
        rows = conn.execute("SELECT * FROM hojin WHERE hojin_no = ?", (hojin_no,)).fetchall()
    else:
        rows = conn.execute("SELECT * FROM hojin WHERE kana LIKE ? ORDER BY kanri_no LIMIT 50",
                            (kana.replace("%", "") + "%",)).fetchall()
    return [Hojin(**dict(row)) for row in rows]


def hojin_exists(conn: sqlite3.Connection, kanri_no: str) -> bool:
    return conn.execute("SELECT 1 FROM hojin WHERE kanri_no = ?", (kanri_no,)).fetchone() is not None


def shitei_exists(conn: sqlite3.Connection, shitei_no: str) -> bool:
    return conn.execute("SELECT 1 FROM tokucho_gimusha WHERE shitei_no = ?", (shitei_no,)).fetchone() is not None


# ---- desk locks ----

LOCK_SECONDS = 300.0  # a desk that walks away keeps the lock this long at most


def take_lock(conn: sqlite3.Connection, subject: str, session_id: str, now: float) -> bool:
    """Lock `subject` for this session; False when another live desk holds it."""
    holder = lock_holder(conn, subject, session_id, now)
    if holder is not None:
        return False
    conn.execute("INSERT INTO record_locks (subject, session_id, locked_at) VALUES (?, ?, ?) "
                 "ON CONFLICT(subject) DO UPDATE SET session_id = excluded.session_id, locked_at = excluded.locked_at",
                 (subject, session_id, now))
    return True


def lock_holder(conn: sqlite3.Connection, subject: str, session_id: str | None, now: float) -> str | None:
    """The other session holding `subject`, if its lock is fresh and its session not ended."""
    row = conn.execute(
        "SELECT l.session_id FROM record_locks l JOIN sessions s ON s.session_id = l.session_id "
        "WHERE l.subject = ? AND l.session_id IS NOT ? AND l.locked_at > ? AND s.ended_at IS NULL",
        (subject, session_id, now - LOCK_SECONDS)).fetchone()
    return row["session_id"] if row else None


def release_locks(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM record_locks WHERE session_id = ?", (session_id,))


def search_atena_by_no(conn: sqlite3.Connection, atena_no: str) -> Atena | None:
    row = conn.execute("SELECT * FROM atena WHERE atena_no = ?", (atena_no,)).fetchone()
    return Atena(**dict(row)) if row else None
