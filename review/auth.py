"""Passwords (argon2id), session tokens and CSRF tokens, and what each role may do."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
# Verified against when the user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

ROLE_LABELS = {"clerk": "事務担当", "supervisor": "監督者", "admin": "管理者"}


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください / "
                         f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def may_see_personal_numbers(role: str) -> bool:
    """Only supervisors (and admins) may reveal a 個人番号 or look at its crop; clerks never do."""
    return role in ("supervisor", "admin")


def may_quarantine(role: str) -> bool:
    """Setting a form aside (差し戻し) stops it for everyone: a supervisor's call, as a city would expect. A clerk
    skips a form (F8) and leaves it to a supervisor."""
    return role in ("supervisor", "admin")


def may_confirm_as_written(role: str) -> bool:
    """Keeping a value that fails a check (記載どおり確定) overrides the check: supervisors only."""
    return role in ("supervisor", "admin")


def may_lift_locks(role: str) -> bool:
    return role == "admin"
