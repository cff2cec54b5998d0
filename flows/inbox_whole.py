"""Whether a scan's bytes are whole by its own format: the end that every writer puts last is there.

A copy that stalls past the settle time with no writer we can see (a share's client on another machine) would be
taken half-written; the format says so. PDF ends with `%%EOF` (then maybe a newline or padding); JPEG with the EOI
marker FFD9; PNG with its IEND chunk; TIFF's strips and tiles lie inside the file; HEIC decodes. A file that is
not whole stays in the inbox until it is (or, if it never becomes whole, until `grace` has passed since its last
change, when it is taken and quarantined with its reason: nothing stays in the inbox forever).
"""
from __future__ import annotations

import os
from pathlib import Path

TAIL_BYTES = 4096


def _tail(path: Path, size: int = TAIL_BYTES) -> bytes:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - size))
        return handle.read()


def _head(path: Path, size: int = 16) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _tiff_whole(path: Path) -> bool:
    from PIL import Image

    size = path.stat().st_size
    with Image.open(path) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            tags = image.tag_v2
            for offsets_tag, counts_tag in ((273, 279), (324, 325)):
                offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
                if offsets is None or counts is None:
                    continue
                offsets = offsets if isinstance(offsets, tuple) else (offsets,)
                counts = counts if isinstance(counts, tuple) else (counts,)
                if any(offset + count > size for offset, count in zip(offsets, counts)):
                    return False
    return True


def _heif_whole(path: Path) -> bool:
    from pillow_heif import open_heif

    open_heif(path, convert_hdr_to_8bit=True).__getattribute__("data")  # decodes the primary image
    return True


def incomplete_reason(path: Path) -> str | None:
    """Why the file's bytes are not whole yet (None: whole, or a type we cannot judge, or damaged in the middle,
    which the reader reports)."""
    try:
        if path.stat().st_size == 0:
            return None  # an empty file is refused at the door once settled
        head = _head(path)
        suffix = path.suffix.lower()
        if head.startswith(b"%PDF"):
            return None if b"%%EOF" in _tail(path, 2048) else "PDFの末尾（%%EOF）がありません / the PDF has no end yet"
        if head.startswith(b"\xff\xd8"):
            return None if b"\xff\xd9" in _tail(path, 64) else "JPEGの末尾がありません / the JPEG has no end yet"
        if head.startswith(b"\x89PNG"):
            return None if b"IEND" in _tail(path, 64) else "PNGの末尾（IEND）がありません / the PNG has no end yet"
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return None if _tiff_whole(path) else "TIFFのデータが途中までです / the TIFF is cut short"
        if suffix in (".heic", ".heif") or head[4:8] == b"ftyp":
            return None if _heif_whole(path) else "HEICが途中までです / the HEIC photo is cut short"
    except Exception:  # noqa: BLE001 - a file we cannot judge here goes to the reader, which says what is wrong
        if path.suffix.lower() in (".heic", ".heif"):
            return "HEICを読み込めません（書き込み途中の可能性）/ the HEIC photo does not decode (maybe still coming)"
        return None
    return None
