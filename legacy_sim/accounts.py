"""Users with hashed passwords, login sessions with idle and absolute time-outs, and one-time form tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Literal

PBKDF2_ITERATIONS = 100_000
SESSION_COOKIE = "JSESSIONID"


def _hash(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def upsert_user(conn: sqlite3.Connection, user_id: str, display_name: str, password: str,
                role: str = "robot") -> None:
    row = conn.execute("SELECT pw_salt, pw_hash, pw_iterations, role FROM users WHERE user_id = ?",
                       (user_id,)).fetchone()
    if (row is not None and row["role"] == role
            and hmac.compare_digest(_hash(password, row["pw_salt"], row["pw_iterations"]), row["pw_hash"])):
        return
    salt = secrets.token_bytes(16)
    conn.execute(
        "INSERT INTO users (user_id, display_name, role, pw_salt, pw_hash, pw_iterations) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET display_name = excluded.display_name, role = excluded.role, "
        "pw_salt = excluded.pw_salt, pw_hash = excluded.pw_hash, pw_iterations = excluded.pw_iterations",
        (user_id, display_name, role, salt, _hash(password, salt, PBKDF2_ITERATIONS), PBKDF2_ITERATIONS),
    )


def check_password(conn: sqlite3.Connection, user_id: str, password: str) -> bool:
    row = conn.execute("SELECT pw_salt, pw_hash, pw_iterations FROM users WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        _hash(password, b"0" * 16, PBKDF2_ITERATIONS)  # same cost for an unknown user
        return False
    return hmac.compare_digest(_hash(password, row["pw_salt"], row["pw_iterations"]), row["pw_hash"])


@dataclass(frozen=True)
class SessionLookup:
    state: Literal["none", "expired", "live"]
    session_id: str | None = None
    user_id: str | None = None
    display_name: str | None = None
    role: str | None = None


def start_session(conn: sqlite3.Connection, user_id: str, now: float) -> str:
    """A new session for the user; one session per user, so a second login ends the first (and its locks)."""
    for row in conn.execute("SELECT session_id FROM sessions WHERE user_id = ? AND ended_at IS NULL",
                            (user_id,)).fetchall():
        end_session(conn, row["session_id"], now)
    session_id = secrets.token_hex(16).upper()
    conn.execute("INSERT INTO sessions (session_id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
                 (session_id, user_id, now, now))
    return session_id


def lookup_session(conn: sqlite3.Connection, session_id: str | None, now: float, *,
                   idle_timeout: float, lifetime: float | None) -> SessionLookup:
    """The session behind a cookie; a live one has its idle clock reset, a timed-out one is ended."""
    if not session_id:
        return SessionLookup("none")
    row = conn.execute(
        "SELECT s.session_id, s.user_id, s.created_at, s.last_seen, s.ended_at, u.display_name, u.role "
        "FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE s.session_id = ?", (session_id,)).fetchone()
    if row is None:
        return SessionLookup("none")
    if row["ended_at"] is not None:
        return SessionLookup("expired")
    idle_over = now - row["last_seen"] > idle_timeout
    lifetime_over = lifetime is not None and now - row["created_at"] > lifetime
    if idle_over or lifetime_over:
        end_session(conn, session_id, now)
        return SessionLookup("expired")
    conn.execute("UPDATE sessions SET last_seen = ? WHERE session_id = ?", (now, session_id))
    return SessionLookup("live", row["session_id"], row["user_id"], row["display_name"], row["role"])


def end_session(conn: sqlite3.Connection, session_id: str, now: float) -> None:
    conn.execute("UPDATE sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL", (now, session_id))
    conn.execute("DELETE FROM record_locks WHERE session_id = ?", (session_id,))


def issue_token(conn: sqlite3.Connection, session_id: str | None, now: float) -> str:
    token = secrets.token_hex(16)
    conn.execute("INSERT INTO form_tokens (token, session_id, issued_at) VALUES (?, ?, ?)", (token, session_id, now))
    return token


def consume_token(conn: sqlite3.Connection, token: str | None, session_id: str | None, now: float) -> bool:
    """True once for a token issued to this session's form page; a second post of the same page is stale."""
    if not token:
        return False
    cursor = conn.execute(
        "UPDATE form_tokens SET used_at = ? WHERE token = ? AND used_at IS NULL AND session_id IS ?",
        (now, token, session_id))
    return cursor.rowcount == 1
