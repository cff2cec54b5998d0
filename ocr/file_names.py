"""Names for what we write per scan: never longer than a file system allows, never carrying what a name must not.

A clerk's file name may be 255 bytes of kanji, hold a 個人番号, newlines, tabs, right-to-left marks, characters
Windows refuses (`<>:"|?*`) or be a reserved device name (CON, NUL, COM1...). What we write is named from a short,
cleaned stem of it (so a person can still tell which scan it was) and, whenever the stem had to be changed or cut,
the scan's content hash, so two different scans never share a name; the full name stays inside the JSON.
"""
from __future__ import annotations

import hashlib
import unicodedata

from ocr.masking import mask_personal_numbers

# 255 bytes is the usual limit for one name; the stem gets well under it, leaving room for the hash and the page.
MAX_STEM_BYTES = 80
_WINDOWS_FORBIDDEN = set('<>:"|?*/\\')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10)),
             "CONIN$", "CONOUT$"}


def _plain_char(ch: str) -> str:
    # Cc: control characters; Cf: format characters (RTL/LTR marks and overrides, zero-width); Zl/Zp: line breaks.
    if ch in _WINDOWS_FORBIDDEN or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return "_"
    return ch


def clean_stem(name: str) -> str:
    """The stem of `name` as we may write it: 個人番号 masked, odd characters made `_`, at most MAX_STEM_BYTES."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = unicodedata.normalize("NFC", mask_personal_numbers(stem) or "").replace("*", "x")
    stem = "".join(_plain_char(ch) for ch in stem).strip(" ._")
    if stem.split(".")[0].upper().rstrip() in _RESERVED:
        stem = f"_{stem}"
    encoded = stem.encode("utf-8")[:MAX_STEM_BYTES]
    return encoded.decode("utf-8", errors="ignore").rstrip(" .") or "scan"


def result_file_name(source: str, page: int, content_sha256: str | None = None, suffix: str = ".json") -> str:
    """`<stem>_p001.json`, or `<stem>_<hash>_p001.json` when the stem is not the clerk's own (cleaned or cut).

    The hash is the scan's content hash when known, else one of the name; never digits of a 個人番号."""
    base = source.replace("\\", "/").rsplit("/", 1)[-1]
    own = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = clean_stem(source)
    if stem != own:
        digest = content_sha256 or hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()
        stem = f"{stem}_{digest[:12]}"
    return f"{stem}_p{page:03d}{suffix}"
