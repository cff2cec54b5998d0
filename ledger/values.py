"""Field values as the ledger stores them, and the idempotency key of a form's content."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

FieldValueType = str | bool | None


def encode_value(value: FieldValueType) -> str | None:
    """JSON text for a field value (strings quoted, booleans true/false); None stays NULL."""
    if value is None:
        return None
    if not isinstance(value, (str, bool)):
        raise TypeError(f"a field value is str, bool or None, not {type(value).__name__}")
    return json.dumps(value, ensure_ascii=False)


def encode_field_value(form_id: str | None, name: str, value: FieldValueType) -> str | None:
    """As `encode_value`, but a 個人番号 field's value (see ledger.crypto.personal_fields) is sealed."""
    from ledger import crypto

    if isinstance(value, str) and value and crypto.is_personal(form_id, name):
        return crypto.seal(value)
    return encode_value(value)


def decode_value(stored: str | None) -> FieldValueType:
    """The value; a sealed 個人番号 gives its masked form (`reveal_value` opens it, where it is shown or typed)."""
    if stored is None:
        return None
    if _sealed(stored):
        from ledger import crypto

        return crypto.masked(stored)
    try:
        decoded = json.loads(stored)
    except json.JSONDecodeError:
        return stored
    # Anything but a JSON string or boolean was written as plain text (say "00123"): give the text back unchanged.
    return decoded if isinstance(decoded, (str, bool)) else stored


def reveal_value(stored: str | None) -> FieldValueType:
    """The value in clear, a sealed 個人番号 decrypted (its masked form once retired). Only for showing it to a
    person allowed to see it, typing it into the target system, or comparing it with what a person typed."""
    if _sealed(stored):
        from ledger import crypto

        return crypto.reveal(stored) or crypto.masked(stored)  # type: ignore[arg-type]
    return decode_value(stored)


def comparable_value(stored: str | None) -> FieldValueType:
    """A value for equality checks between stored values: a sealed 個人番号 stands as its keyed hash."""
    if _sealed(stored):
        from ledger import crypto

        return crypto.comparable(stored)  # type: ignore[arg-type]
    return decode_value(stored)


def _sealed(stored: str | None) -> bool:
    return isinstance(stored, str) and stored.startswith('{"$mynumber"')


def idempotency_key(form_id: str, values: Mapping[str, FieldValueType]) -> str:
    """sha256 over the form id and its normalised values, independent of field order."""
    canonical = json.dumps({"form_id": form_id, "values": dict(values)}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
