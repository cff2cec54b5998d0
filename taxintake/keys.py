"""The secrets the ledger is protected with, kept apart from it: the 個人番号 keys and the audit chain's key.

Each comes from the environment or a Prefect Secret block (as the legacy password does, taxintake.credentials),
never from the database, the repository or a flow's parameters. A 個人番号 key is written `<key id>:<base64 of 32
bytes>`; `taxintake keys new` prints a fresh one. Keys that were current before a rotation stay listed in
TAXINTAKE_MYNUMBER_OLD_KEYS (comma-separated) until `taxintake keys rotate` has re-encrypted what they sealed.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

MYNUMBER_KEY_ENV = "TAXINTAKE_MYNUMBER_KEY"
MYNUMBER_OLD_KEYS_ENV = "TAXINTAKE_MYNUMBER_OLD_KEYS"
MYNUMBER_KEY_BLOCK_ENV = "TAXINTAKE_MYNUMBER_KEY_BLOCK"
DEFAULT_MYNUMBER_KEY_BLOCK = "taxintake-mynumber-key"
DEFAULT_MYNUMBER_OLD_KEYS_BLOCK = "taxintake-mynumber-old-keys"
AUDIT_KEY_ENV = "TAXINTAKE_AUDIT_KEY"
AUDIT_KEY_BLOCK_ENV = "TAXINTAKE_AUDIT_KEY_BLOCK"
DEFAULT_AUDIT_KEY_BLOCK = "taxintake-audit-key"
RETENTION_DAYS_ENV = "TAXINTAKE_MYNUMBER_RETENTION_DAYS"

_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_MIN_AUDIT_KEY_BYTES = 32


class MissingKey(RuntimeError):
    """A key the ledger needs is configured nowhere (or is malformed); the message says how to set it."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]  # key id -> 32-byte AES key, the current one among them

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def new_mynumber_key(key_id: str | None = None) -> str:
    """A fresh key line `<id>:<base64>` (id: today's date and 4 random hex digits unless given)."""
    from datetime import datetime, timezone

    key_id = key_id or f"k{datetime.now(timezone.utc):%Y%m%d}{secrets.token_hex(2)}"
    if not _KEY_ID.match(key_id):
        raise ValueError(f"a key id is 1-32 letters, digits, '.', '_' or '-', not {key_id!r}")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"


def new_audit_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def mynumber_keyring() -> KeyRing:
    """The current key and the old ones; raises MissingKey (with how to set one) when none is configured."""
    current = os.environ.get(MYNUMBER_KEY_ENV, "").strip()
    old = os.environ.get(MYNUMBER_OLD_KEYS_ENV, "").strip()
    block = os.environ.get(MYNUMBER_KEY_BLOCK_ENV, DEFAULT_MYNUMBER_KEY_BLOCK)
    return _keyring(current, old, block)


@lru_cache(maxsize=8)
def _keyring(current: str, old: str, block: str) -> KeyRing:
    if not current:
        current = _from_block(block) or ""
        old = old or _from_block(DEFAULT_MYNUMBER_OLD_KEYS_BLOCK) or ""
    if not current:
        raise MissingKey(
            f"個人番号の暗号鍵が設定されていません: 環境変数 {MYNUMBER_KEY_ENV} か Prefect の Secret ブロック "
            f"'{block}' に `taxintake keys new` の出力を設定してください / no 個人番号 key: set {MYNUMBER_KEY_ENV} "
            f"(or the Prefect Secret block '{block}') to the line `taxintake keys new` prints")
    current_id, current_key = _parse_key(current, MYNUMBER_KEY_ENV)
    keys = {current_id: current_key}
    for line in filter(None, (part.strip() for part in old.split(","))):
        key_id, key = _parse_key(line, MYNUMBER_OLD_KEYS_ENV)
        if key_id in keys and keys[key_id] != key:
            raise MissingKey(f"鍵ID {key_id} が2つの異なる鍵に使われています / key id {key_id} names two keys")
        keys.setdefault(key_id, key)
    return KeyRing(current_id=current_id, keys=keys)


def _parse_key(line: str, where: str) -> tuple[str, bytes]:
    key_id, sep, encoded = line.partition(":")
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) if sep else b""
    except ValueError:
        key = b""
    if not sep or not _KEY_ID.match(key_id) or len(key) != 32:
        # Never echo the value: it is key material.
        raise MissingKey(f"{where} の形式が違います（`<鍵ID>:<32バイトのbase64>`、`taxintake keys new` で作成）/ "
                         f"{where} must be `<key id>:<base64 of 32 bytes>` (make one with `taxintake keys new`)")
    return key_id, key


def audit_key() -> bytes:
    """The HMAC key of the audit chain: TAXINTAKE_AUDIT_KEY, else the Prefect Secret block (at least 32 bytes)."""
    block = os.environ.get(AUDIT_KEY_BLOCK_ENV, DEFAULT_AUDIT_KEY_BLOCK)
    return _audit_key(os.environ.get(AUDIT_KEY_ENV, "").strip(), block)


@lru_cache(maxsize=8)
def _audit_key(value: str, block: str) -> bytes:
    value = value or (_from_block(block) or "")
    if len(value.encode()) < _MIN_AUDIT_KEY_BYTES:
        raise MissingKey(
            f"監査ログの鍵が設定されていません（32文字以上）: 環境変数 {AUDIT_KEY_ENV} か Prefect の Secret ブロック "
            f"'{block}' に `taxintake keys new --audit` の出力を設定してください / no audit key (32+ characters): "
            f"set {AUDIT_KEY_ENV} (or the Prefect Secret block '{block}') to what `taxintake keys new --audit` prints")
    return value.encode()


def retention_days() -> int:
    """Days a 個人番号 is kept decryptable after its form is ENTERED and read back (default 0: at once)."""
    raw = os.environ.get(RETENTION_DAYS_ENV, "0").strip() or "0"
    try:
        days = int(raw)
    except ValueError as exc:
        raise ValueError(f"{RETENTION_DAYS_ENV} must be a whole number of days, not {raw!r}") from exc
    if days < 0:
        raise ValueError(f"{RETENTION_DAYS_ENV} must not be negative, got {days}")
    return days


def _from_block(block_name: str) -> str | None:
    """The Secret block's value, or None where there is no such block (or Prefect cannot be asked)."""
    try:
        from prefect.blocks.system import Secret

        return str(Secret.load(block_name).get()).strip() or None
    except Exception:  # noqa: BLE001 - no block, no server: the caller says how to configure a key
        return None
