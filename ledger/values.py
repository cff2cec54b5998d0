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


def decode_value(stored: str | None) -> FieldValueType:
    if stored is None:
        return None
    try:
        decoded = json.loads(stored)
    except json.JSONDecodeError:
        return stored
    # Anything but a JSON string or boolean was written as plain text (say "00123"): give the text back unchanged.
    return decoded if isinstance(decoded, (str, bool)) else stored


def idempotency_key(form_id: str, values: Mapping[str, FieldValueType]) -> str:
    """sha256 over the form id and its normalised values, independent of field order."""
    canonical = json.dumps({"form_id": form_id, "values": dict(values)}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
