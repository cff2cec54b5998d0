"""個人番号 at rest: every personal-number field is sealed (AES-GCM) before the ledger stores it.

A sealed value is a JSON object in the field's text column:
`{"$mynumber": 1, "kid": <key id>, "ct": <base64 nonce+ciphertext>, "hmac": <keyed hash>, "masked": "********1234"}`.
`kid` names the key it was sealed with, so keys can be rotated (`rotate_value`); `hmac` (HMAC-SHA256 under a key
derived from that key) lets values be compared without decrypting them; once a form is entered and read back its
numbers are *retired*: `ct` is dropped and only the keyed hash and the masked form stay.

Which fields are personal comes from the templates (kind my_number, or a 個人番号 check-digit validator), never a
hand list. Decrypting is `reveal`, called only where a number is shown to a supervisor or typed by a robot.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_MARK = "$mynumber"
_SEALED_PREFIX = '{"' + SEALED_MARK + '"'
_PERSONAL_VALIDATORS = ("my_number_check_digit", "my_or_corporate_number_check_digit")
_HASH_INFO = b"taxintake mynumber hmac v1"


class SealError(RuntimeError):
    """A sealed value that cannot be opened: its key is not configured, or the stored bytes were changed."""


def keyring():
    from taxintake.keys import mynumber_keyring  # settings live beside the config, not in the ledger

    return mynumber_keyring()


# ---- which fields ------------------------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def personal_fields(form_id: str | None) -> frozenset[str]:
    """Names of the template's fields that hold (or may hold) a 個人番号; empty where there is no template."""
    if not form_id:
        return frozenset()
    from ocr.templates import TemplateError, load_template

    try:
        template = load_template(form_id)
    except (TemplateError, OSError):
        return frozenset()
    return frozenset(spec.name for spec in template.fields
                     if spec.kind == "my_number" or any(v in spec.validators for v in _PERSONAL_VALIDATORS))


def is_personal(form_id: str | None, name: str) -> bool:
    return name in personal_fields(form_id)


# ---- sealing -----------------------------------------------------------------------------------------------------

def is_sealed(stored: str | None) -> bool:
    return isinstance(stored, str) and stored.startswith(_SEALED_PREFIX)


def _envelope(stored: str) -> dict:
    return json.loads(stored)


def _masked(value: str) -> str:
    from ocr.checkdigits import mask_my_number

    return mask_my_number(value)


def _hash_key(key: bytes) -> bytes:
    return hmac.new(key, _HASH_INFO, hashlib.sha256).digest()


def number_hash(value: str, key_id: str | None = None) -> str:
    """The keyed hash of a 個人番号 under key `key_id` (the current key by default): for duplicate checks."""
    ring = keyring()
    key_id = key_id or ring.current_id
    if key_id not in ring.keys:
        raise SealError(_missing_key_message(key_id))
    return hmac.new(_hash_key(ring.keys[key_id]), value.encode("utf-8"), hashlib.sha256).hexdigest()


def seal(value: str) -> str:
    """The stored text of a 個人番号 sealed with the current key."""
    ring = keyring()
    nonce = os.urandom(12)
    ciphertext = AESGCM(ring.current).encrypt(nonce, value.encode("utf-8"), _aad(ring.current_id))
    return json.dumps({SEALED_MARK: 1, "kid": ring.current_id,
                       "ct": base64.b64encode(nonce + ciphertext).decode(),
                       "hmac": number_hash(value, ring.current_id), "masked": _masked(value)},
                      separators=(",", ":"))


def _aad(key_id: str) -> bytes:
    return b"taxintake mynumber v1|" + key_id.encode()


def reveal(stored: str) -> str | None:
    """The 個人番号 in clear; None once it was retired (only its hash and masked form are left)."""
    envelope = _envelope(stored)
    if "ct" not in envelope:
        return None
    ring = keyring()
    key = ring.keys.get(envelope["kid"])
    if key is None:
        raise SealError(_missing_key_message(envelope["kid"]))
    raw = base64.b64decode(envelope["ct"])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(envelope["kid"])).decode("utf-8")
    except InvalidTag as exc:
        raise SealError("暗号化された個人番号が改ざんされているか鍵が違います / a sealed 個人番号 was changed or its "
                        f"key {envelope['kid']} is not the one it was sealed with") from exc


def masked(stored: str) -> str:
    return str(_envelope(stored).get("masked", ""))


def is_retired(stored: str) -> bool:
    return "ct" not in _envelope(stored)


def retire(stored: str) -> str:
    """The same value with its ciphertext dropped: only the keyed hash and the masked form remain."""
    envelope = _envelope(stored)
    envelope.pop("ct", None)
    envelope["retired"] = True
    return json.dumps(envelope, separators=(",", ":"))


def key_id_of(stored: str) -> str:
    return str(_envelope(stored)["kid"])


def rotate_value(stored: str) -> str:
    """Re-sealed under the current key (a retired value is left as it is: there is nothing left to re-encrypt)."""
    if is_retired(stored) or key_id_of(stored) == keyring().current_id:
        return stored
    plain = reveal(stored)
    assert plain is not None
    return seal(plain)


def matches(stored: str, value: str) -> bool:
    """Whether the sealed value is `value`, by its keyed hash (no decryption)."""
    envelope = _envelope(stored)
    try:
        return hmac.compare_digest(envelope["hmac"], number_hash(value, envelope["kid"]))
    except SealError:
        return reveal(stored) == value


def same(stored_a: str, stored_b: str) -> bool:
    """Whether two sealed values hold the same number (compared by hash where both use one key)."""
    a, b = _envelope(stored_a), _envelope(stored_b)
    if a["kid"] == b["kid"]:
        return hmac.compare_digest(a["hmac"], b["hmac"])
    plain_a = reveal(stored_a)
    return plain_a is not None and matches(stored_b, plain_a)


def comparable(stored: str) -> str:
    """A stand-in for a sealed value in equality checks: its key id and keyed hash, never the number."""
    envelope = _envelope(stored)
    return f"#{envelope['kid']}:{envelope['hmac']}"


def _missing_key_message(key_id: str) -> str:
    from taxintake.keys import MYNUMBER_OLD_KEYS_ENV

    return (f"鍵 {key_id} がありません: {MYNUMBER_OLD_KEYS_ENV} に旧鍵を残してください / key {key_id} is not "
            f"configured: keep it in {MYNUMBER_OLD_KEYS_ENV} until `taxintake keys rotate` has re-encrypted its values")
