"""A corpus of what a tax office's inbox really receives besides good scans: broken, hostile and odd files.

Every kind is generated here (no committed binaries beyond the good sample scans it starts from), with what the
intake must make of it: read, quarantined with a reason a clerk understands, refused at the door (links, FIFOs),
left to finish writing, or recognised as a second copy. Used by the bad-input tests and by anyone who wants to
throw the lot at a running system: `python -m samples.bad_inputs OUT_DIR`.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SAMPLE_SCANS = Path(__file__).resolve().parent / "scans"
# Good scans the corpus starts from: a printed 異動届出書, a handwritten one, and a 法人 form by fax.
GOOD_FORM = SAMPLE_SCANS / "scan_0002.jpg"
OTHER_FORM = SAMPLE_SCANS / "scan_0001.png"


@dataclass(frozen=True)
class BadInput:
    kind: str  # what it is, in a clerk's words
    name: str  # the entry's name in the inbox (Japanese, spaces and all where the kind says so)
    expect: str  # read | quarantined | read_or_quarantined | refused | waiting | duplicate
    reason: str | None  # a word the clerk's reason must hold (quarantined and refused only)
    build: Callable[[Path], None]  # writes the entry at the given path
    pages: int = 1  # pages the ledger must account for (read or quarantined)


# ---- small writers -----------------------------------------------------------------------------------------------

def _pdf(pages: list[bytes], *, extra_trailer: str = "", objects_after: list[bytes] | None = None) -> bytes:
    """A minimal, valid PDF: `pages` are page dictionaries' bodies; offsets and xref computed."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for body in pages:
        objects.append(body)
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    objects += objects_after or []
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {extra_trailer}>>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def _page(width_pt: float, height_pt: float) -> bytes:
    return f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] >>".encode()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_header(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def _image(source: Path = GOOD_FORM) -> Image.Image:
    with Image.open(source) as image:
        return image.convert("L")


def _grey_noise_page(seed: int, width: int = 1240, height: int = 1754) -> Image.Image:
    """A page of something that is no form of ours: boxes and strokes at random."""
    rng = np.random.default_rng(seed)
    pixels = np.full((height, width), 245, np.uint8)
    import cv2

    for _ in range(60):
        x, y = int(rng.integers(0, width - 200)), int(rng.integers(0, height - 100))
        cv2.rectangle(pixels, (x, y), (x + int(rng.integers(40, 400)), y + int(rng.integers(20, 200))), 30, 2)
    for _ in range(400):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        cv2.putText(pixels, "ABCDEFG"[: int(rng.integers(1, 7))], (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2)
    return Image.fromarray(pixels)


def _blank_page(width: int = 1654, height: int = 2339) -> Image.Image:
    """Paper with a few specks of dust."""
    pixels = np.full((height, width), 247, np.uint8)
    rng = np.random.default_rng(7)
    pixels[rng.integers(0, height, 300), rng.integers(0, width, 300)] = 120
    return Image.fromarray(pixels)


def _warp(image: Image.Image, corners: list[tuple[float, float]], fill: int = 90) -> Image.Image:
    import cv2

    pixels = np.asarray(image)
    h, w = pixels.shape
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = np.float32([[x * w, y * h] for x, y in corners])
    warped = cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(source, target), (w, h), borderValue=fill)
    return Image.fromarray(warped)


# ---- the kinds ---------------------------------------------------------------------------------------------------

def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def _truncated_pdf(path: Path) -> None:
    whole = io.BytesIO()
    _image().save(whole, format="PDF", resolution=200)
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 3])


def _encrypted_pdf(path: Path) -> None:
    # A Standard security handler whose user password is not empty: nobody can open it without the password.
    encrypt = (b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
               + b"> >>")
    path.write_bytes(_pdf([_page(595, 842)], extra_trailer="/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff>"
                          " <00112233445566778899aabbccddeeff>] ", objects_after=[encrypt]))


def _no_pages_pdf(path: Path) -> None:
    path.write_bytes(_pdf([]))


def _three_hundred_pages(path: Path) -> None:
    path.write_bytes(_pdf([_page(210, 298)] * 300))  # A7-sized blank pages: the point is the count


def _huge_page_pdf(path: Path) -> None:
    path.write_bytes(_pdf([_page(14400, 14400)]))  # 5 m × 5 m: 200 dpi would be 1.6 Gpx


def _text_named_pdf(path: Path) -> None:
    path.write_text("これはPDFではありません。メモです。\nnot a PDF, a note\n", encoding="utf-8")


def _html_named_png(path: Path) -> None:
    path.write_text("<html><script>alert(1)</script></html>", encoding="utf-8")


def _zip_named_tif(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("scan.tif", b"II*\x00" + b"\x00" * 100)


def _png_claiming_60000(path: Path) -> None:
    # The header claims 60000×60000 (3.6 Gpx, 3.6 GB decoded); the data is a few bytes.
    path.write_bytes(_png_header(60000, 60000) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
                     + _png_chunk(b"IEND", b""))


def _png_bomb(path: Path) -> None:
    # Real pixels this time: 9500×9500 white (90 Mpx, past the 80 Mpx a page may have) in about 400 kB.
    width = height = 9500
    compressor = zlib.compressobj(1)
    row = b"\x00" + b"\xff" * width
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    path.write_bytes(_png_header(width, height) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b""))


def _tiff_claiming_huge(path: Path) -> None:
    Image.new("L", (300, 300), 255).save(path, format="TIFF")
    data = bytearray(path.read_bytes())
    # Rewrite ImageWidth / ImageLength (tags 256, 257) in the first IFD to 100000.
    (ifd_offset,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd_offset)
    for index in range(count):
        entry = ifd_offset + 2 + index * 12
        tag, kind = struct.unpack_from("<HH", data, entry)
        if tag in (256, 257):
            if kind == 3:
                struct.pack_into("<H", data, entry + 8, 60000)
            else:
                struct.pack_into("<I", data, entry + 8, 100000)
    path.write_bytes(bytes(data))


def _tiny_image(path: Path) -> None:
    Image.new("L", (40, 40), 128).save(path)


def _strip_image(path: Path) -> None:
    Image.new("L", (150, 6000), 255).save(path)  # a receipt roll, not a page


def _blank(path: Path) -> None:
    _blank_page().save(path, dpi=(200, 200))


def _upside_down(path: Path) -> None:
    _image().rotate(180, expand=True).save(path, quality=90, dpi=(200, 200))


def _unknown_form(path: Path) -> None:
    _grey_noise_page(11).save(path, dpi=(150, 150))


def _heavy_perspective(path: Path) -> None:
    # A phone held at a slant: one side of the page half as tall as the other.
    _warp(_image(), [(0.02, 0.0), (0.98, 0.25), (0.98, 0.75), (0.02, 1.0)]).save(path, quality=85, dpi=(200, 200))


def _double_skew(path: Path) -> None:
    # Twice the skew a form may have and still be placed (ocr.classify.MAX_SKEW_DEGREES = 8°).
    _image().rotate(17, expand=True, fillcolor=255).save(path, quality=90, dpi=(200, 200))


def _two_forms_on_one_page(path: Path) -> None:
    first, second = _image(), _image(OTHER_FORM)
    width = first.width // 2
    height = first.height // 2
    sheet = Image.new("L", (first.width, first.height), 255)
    sheet.paste(first.resize((width, height)), (0, height // 2))
    sheet.paste(second.resize((width, height)), (width, height // 2))
    sheet.save(path, quality=90, dpi=(200, 200))


def _corrupt_tiff_middle(path: Path) -> None:
    pages = [_image(), _grey_noise_page(5, 1000, 1400), _blank_page(1000, 1400)]
    pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw",
                  dpi=(200, 200))
    with Image.open(path) as image:
        image.seek(1)
        offsets, counts = image.tag_v2[273], image.tag_v2[279]
    data = bytearray(path.read_bytes())
    garbage = np.random.default_rng(3).integers(0, 256, sum(counts), dtype=np.uint8).tobytes()
    position = 0
    for offset, count in zip(offsets, counts):
        data[offset: offset + count] = garbage[position: position + count]
        position += count
    path.write_bytes(bytes(data))


def _truncated_jpeg(path: Path) -> None:
    data = GOOD_FORM.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _png_named_jpg(path: Path) -> None:
    _image().save(path, format="PNG", dpi=(200, 200), compress_level=1)


def _cmyk_jpeg(path: Path) -> None:
    with Image.open(GOOD_FORM) as image:
        image.convert("CMYK").save(path, format="JPEG", quality=90, dpi=(200, 200))


def _sixteen_bit_png(path: Path) -> None:
    pixels = np.asarray(_image(), dtype=np.uint16) * 257
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)


def _exif_rotated_jpeg(path: Path) -> None:
    # A phone stores the pixels sideways and says so in EXIF Orientation (6: rotate 90° clockwise to view).
    image = _image().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, format="JPEG", quality=90, exif=exif, dpi=(200, 200))


def _japanese_name(path: Path) -> None:
    path.write_bytes(GOOD_FORM.read_bytes())


def _fax_tiff(path: Path) -> None:
    image = _image()
    half = image.resize((image.width, image.height // 2)).point(lambda v: 255 if v > 150 else 0).convert("1")
    half.save(path, format="TIFF", compression="group4", dpi=(200, 100))


def _unsupported_type(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # an Office document's first bytes


def _no_suffix(path: Path) -> None:
    path.write_bytes(OTHER_FORM.read_bytes()[:5000])


def _broken_pdf_content(path: Path) -> None:
    stream = b"q 1 0 0 1 0 0 cm BT /F9 12 Tf (" + b"\xff" * 50 + b") Tj ET Q garbage ))) [[["
    content = b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    path.write_bytes(_pdf([page], objects_after=[content]))


def _my_number_in_name(path: Path) -> None:
    _grey_noise_page(23).save(path, dpi=(150, 150))


def _symlink_to_secret(path: Path) -> None:
    secret = path.parent.parent / "outside_secret.pdf"
    secret.write_bytes(b"%PDF-1.4 secret outside the inbox")
    path.symlink_to(secret)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlinked_folder(path: Path) -> None:
    outside = path.parent.parent / "outside_share"
    outside.mkdir(exist_ok=True)
    (outside / "private.pdf").write_bytes(b"%PDF-1.4 private")
    path.symlink_to(outside, target_is_directory=True)


def _hidden_temporary(path: Path) -> None:
    path.write_bytes(b"partial upload")


def _reencoded(quality: int) -> Callable[[Path], None]:
    """The good form saved again at another JPEG quality: the same page, other bytes (not a second copy)."""
    def build(path: Path) -> None:
        _image().save(path, format="JPEG", quality=quality, dpi=(200, 200))
    return build


def _heic_photo(path: Path) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    with Image.open(GOOD_FORM) as image:
        image.convert("RGB").save(path, format="HEIF", quality=90)


def _transparent_png(path: Path) -> None:
    # Exported from a drawing app: ink opaque black, the paper fully transparent (black under the alpha).
    grey = np.asarray(_image())
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    Image.fromarray(rgba, "RGBA").save(path, dpi=(200, 200))


# A valid 個人番号 written as clerks write it in a file name: dotted, underscored, full-width.
DOTTED_NUMBER = "987654321093"


CORPUS: list[BadInput] = [
    BadInput("zero-byte file", "empty.pdf", "refused", "ファイルが空です", _zero_bytes),
    BadInput("truncated PDF", "truncated.pdf", "quarantined", "PDFが壊れている", _truncated_pdf),
    BadInput("encrypted PDF", "encrypted.pdf", "quarantined", "パスワード", _encrypted_pdf),
    BadInput("PDF with no pages", "no_pages.pdf", "quarantined", "ページがありません", _no_pages_pdf),
    BadInput("300-page PDF", "three_hundred.pdf", "quarantined", "白紙", _three_hundred_pages, pages=300),
    BadInput("PDF page 5 m square", "huge_page.pdf", "quarantined", "大きすぎ", _huge_page_pdf),
    BadInput("PDF with a broken content stream", "broken_stream.pdf", "quarantined", "白紙", _broken_pdf_content),
    BadInput("text file named .pdf", "memo.pdf", "quarantined", "PDFではありません", _text_named_pdf),
    BadInput("HTML named .png", "page.png", "quarantined", "画像を開けません", _html_named_png),
    BadInput("ZIP named .tif", "archive.tif", "quarantined", "画像を開けません", _zip_named_tif),
    BadInput("PNG claiming 60000×60000", "huge_claim.png", "quarantined", "大きすぎ", _png_claiming_60000),
    BadInput("PNG decompression bomb 9500×9500", "bomb.png", "quarantined", "大きすぎ", _png_bomb),
    BadInput("TIFF claiming 100000×100000", "huge_claim.tif", "quarantined", "大きすぎ", _tiff_claiming_huge),
    BadInput("40×40 image", "tiny.png", "quarantined", "小さすぎ", _tiny_image),
    BadInput("150×6000 strip", "strip.png", "quarantined", "小さすぎ", _strip_image),
    BadInput("blank page", "blank.png", "quarantined", "白紙", _blank),
    BadInput("upside-down page", "upside_down.jpg", "read", None, _upside_down),
    BadInput("a form we do not know", "unknown_form.png", "quarantined", "既知の様式ではありません", _unknown_form),
    BadInput("heavy-perspective phone photo", "phone_photo.jpg", "read_or_quarantined", "様式", _heavy_perspective),
    BadInput("twice the skew a form may have", "skew_17deg.jpg", "read_or_quarantined", "様式", _double_skew),
    BadInput("two forms on one page", "two_forms.jpg", "read_or_quarantined", "様式", _two_forms_on_one_page),
    BadInput("corrupt TIFF page in the middle", "bundle_corrupt_middle.tif", "quarantined", "2ページ目",
             _corrupt_tiff_middle, pages=3),
    BadInput("truncated JPEG", "truncated.jpg", "quarantined", "途中で切れています", _truncated_jpeg),
    BadInput("PNG named .jpg", "really_png.jpg", "read", None, _png_named_jpg),
    BadInput("CMYK JPEG", "cmyk.jpg", "read", None, _cmyk_jpeg),
    BadInput("16-bit greyscale PNG", "sixteen_bit.png", "read", None, _sixteen_bit_png),
    BadInput("phone JPEG turned by EXIF", "exif_rotated.jpg", "read", None, _exif_rotated_jpeg),
    BadInput("fax TIFF 200×100 dpi", "fax.tif", "read_or_quarantined", "", _fax_tiff),
    BadInput("file name with Japanese and spaces", "異動届出書 佐藤 太郎 (1).jpg", "read", None, _japanese_name),
    BadInput("the same file twice", "異動届出書 佐藤 太郎 (2).jpg", "duplicate", None, _japanese_name),
    BadInput("a 個人番号 in the file name", "123456789018 田中.png", "quarantined", "既知の様式ではありません",
             _my_number_in_name),
    BadInput("Office document", "申請書.docx", "refused", "対応していない形式", _unsupported_type),
    BadInput("no suffix", "scan_without_suffix", "refused", "対応していない形式", _no_suffix),
    BadInput("symbolic link", "link_to_secret.pdf", "refused", "シンボリックリンク", _symlink_to_secret),
    BadInput("FIFO", "pipe.pdf", "refused", "FIFO", _fifo),
    BadInput("symlinked parent folder", "share_link", "refused", "シンボリックリンク", _symlinked_folder),
    BadInput("hidden temporary file", ".scan.pdf.part", "waiting", None, _hidden_temporary),
    BadInput("a second zero-byte file", "empty_2.jpg", "refused", "ファイルが空です", _zero_bytes),
    BadInput("a name that is only dots and a suffix", "..jpg", "refused", "一時ファイル", _hidden_temporary),
    BadInput("255-byte kanji name", "申" * 83 + "xy.jpg", "read", None, _reencoded(80)),
    BadInput("newline and tab in the name", "改行\nと\tタブ.jpg", "read", None, _reencoded(81)),
    BadInput("right-to-left override in the name", "invoice\u202egpj.exe.jpg", "read", None, _reencoded(82)),
    BadInput("characters Windows refuses", 'a<b>c:d"e|f?g*h.jpg', "read", None, _reencoded(83)),
    BadInput("reserved name CON", "CON.jpg", "read", None, _reencoded(84)),
    BadInput("reserved name NUL", "nul.jpg", "read", None, _reencoded(85)),
    BadInput("reserved name COM1", "COM1.jpg", "read", None, _reencoded(86)),
    BadInput("iPhone HEIC photo", "IMG_0001.HEIC", "read", None, _heic_photo),
    BadInput("transparent PNG", "transparent.png", "read", None, _transparent_png),
    BadInput("a dotted 個人番号 in the name", "9876.5432.1093 山田.jpg", "read", None, _reencoded(87)),
    BadInput("an underscored 個人番号 in the name", "9876_5432_1093_山田.jpg", "read", None, _reencoded(88)),
    BadInput("a full-width 個人番号 in the name", "９８７６ ５４３２ １０９３ 山田.jpg", "read", None, _reencoded(89)),
]
# A file still being written is made by the test itself (a thread that keeps appending during the intake).


def write_corpus(inbox: Path, kinds: list[BadInput] | None = None) -> list[BadInput]:
    """Write every kind into `inbox` (its parent gets the things links point at); returns the kinds written."""
    inbox.mkdir(parents=True, exist_ok=True)
    written = []
    for item in kinds or CORPUS:
        item.build(inbox / item.name)
        written.append(item)
    old = 1_600_000_000  # written long ago: nothing here is still being written
    for item in written:
        # A copy under a temporary name is under way now; everything else was written long ago.
        if item.expect != "waiting" and not os.path.islink(inbox / item.name) and (inbox / item.name).is_file():
            os.utime(inbox / item.name, (old, old))
    return written


if __name__ == "__main__":
    import sys

    for item in write_corpus(Path(sys.argv[1])):
        print(f"{item.expect:20} {item.kind}: {item.name}")
