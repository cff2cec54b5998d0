"""Load scans (PDF, multi-page TIFF, JPEG, PNG, a phone's HEIC/HEIF) as greyscale pages, one at a time to bound memory;
red seal ink is dropped from colour pages on the way to grey."""
from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
from PIL import Image, ImageOps

PdfRenderer = Literal["pdf2image", "pypdfium2"]

SUPPORTED_SUFFIXES = {".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png", ".heic", ".heif"}
# A4 at 300 dpi is about 8.7 Mpx; anything far beyond a page at 600 dpi is a broken or hostile file.
MAX_PAGE_PIXELS = 80_000_000
MIN_PAGE_SIDE = 200
PDF_DPI = 200


class LoadError(ValueError):
    """A file or page that cannot be read, with a reason a clerk understands (Japanese first)."""


@dataclass
class LoadedPage:
    source: str
    page_number: int  # 1-based
    pixels: np.ndarray  # uint8 greyscale, square pixels
    dpi: float | None  # after making pixels square; None when the file does not say


# PDFium by default: benchmarks/pdf_render.py --count 20 (20 generated A4 scans in one 6.6 MB PDF, 200 dpi, this
# 2-core box, each renderer in a fresh process, one page at a time): pypdfium2 10.9 pages/s (median 84 ms a page),
# peak RSS 103 MB; pdf2image 6.5 pages/s (median 145 ms, one pdftoppm process per page), peak RSS 92 MB including
# pdftoppm. Both give the same page size; pixels differ by a mean 4.8 of 255 (the embedded JPEG decoded and
# resampled differently; poppler is 1.9 from the image written, PDFium 3.8). TAXINTAKE_PDF_RENDERER overrides.
DEFAULT_PDF_RENDERER: PdfRenderer = "pypdfium2"


def default_pdf_renderer() -> PdfRenderer:
    return os.environ.get("TAXINTAKE_PDF_RENDERER", DEFAULT_PDF_RENDERER)  # type: ignore[return-value]


def iter_pages(path: Path, pdf_renderer: PdfRenderer | None = None) -> Iterator[LoadedPage | LoadError]:
    """Yield each page, or a LoadError for a page that cannot be read, so one bad page never hides the others."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"対応していない形式です（{suffix or '拡張子なし'}）/ unsupported file type")
    try:
        empty = path.stat().st_size == 0
    except OSError as exc:
        raise LoadError(f"ファイルを開けません / cannot open the file: {type(exc).__name__}") from exc
    if empty:
        raise LoadError("ファイルが空です（0バイト）/ the file is empty (0 bytes)")
    if suffix == ".pdf":
        yield from _iter_pdf(path, pdf_renderer or default_pdf_renderer())
    else:
        yield from _iter_image(path)


def _register_heif() -> None:
    """iPhones save photos as HEIC; pillow-heif teaches PIL to open them (registering twice is harmless)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _iter_image(path: Path) -> Iterator[LoadedPage | LoadError]:
    Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS
    if path.suffix.lower() in (".heic", ".heif"):
        _register_heif()
    try:
        with warnings.catch_warnings():  # past the limit is refused below, page by page, before decoding
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise LoadError("画像が大きすぎます / image too large to be a scanned page") from exc
    except Exception as exc:  # PIL raises many types for broken files
        raise LoadError(f"画像を開けません（破損の可能性）/ cannot open image: {type(exc).__name__}") from exc
    with image:
        try:
            frame_count = int(getattr(image, "n_frames", 1))
        except Exception:  # a broken chain of TIFF pages: read what can be reached one by one
            frame_count = None
        index = 0
        while frame_count is None or index < frame_count:
            index += 1
            try:
                image.seek(index - 1)
            except EOFError:
                if frame_count is None:
                    break
                yield LoadError(f"{index}ページ目が見つかりません（破損の可能性）/ page {index} missing")
                continue
            except Exception as exc:
                yield LoadError(f"{index}ページ目: {_image_reason(exc)}")
                if frame_count is None:
                    break
                continue
            try:
                yield _to_page(str(path.name), index, image)
            except LoadError as exc:
                yield LoadError(f"{index}ページ目: {exc}")
            except Exception as exc:
                yield LoadError(f"{index}ページ目: {_image_reason(exc)}")


def _image_reason(exc: Exception) -> str:
    if "truncated" in str(exc).lower():
        return "画像が途中で切れています（転送が途中で止まった可能性）/ the image is truncated"
    return f"画像を読めません（破損の可能性）/ the image data is damaged: {type(exc).__name__}"


def _to_page(source: str, page_number: int, frame: Image.Image) -> LoadedPage:
    width, height = frame.size
    if width * height > MAX_PAGE_PIXELS:
        raise LoadError("画像が大きすぎます / image too large to be a scanned page")
    if min(width, height) < MIN_PAGE_SIDE:
        raise LoadError(f"画像が小さすぎます（{width}×{height}）/ image too small to be a scanned page")
    frame = ImageOps.exif_transpose(frame)
    dpi = frame.info.get("dpi")
    grey = _greyscale(frame)
    return _square_pixels(source, page_number, grey, dpi)


def _greyscale(frame: Image.Image) -> np.ndarray:
    """8-bit grey; 16- and 32-bit grey are scaled down (PIL's own conversion clips them, which whitens the page).
    A colour page has its red and vermilion ink (seals, 受付印) dropped first (`drop_red_ink`)."""
    if frame.mode.startswith("I;16") or frame.mode == "I":
        wide = np.asarray(frame).astype(np.int64)
        top = 65535 if frame.mode.startswith("I;16") or wide.max(initial=0) > 255 else 255
        return np.clip(wide * 255 // max(top, 1), 0, 255).astype(np.uint8)
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        # A transparent background is paper, not ink: laid on white, or convert("L") would turn it black.
        rgba = frame.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(paper, rgba)
    if frame.mode in ("RGB", "RGBA", "CMYK", "YCbCr", "P", "LAB", "HSV"):
        return drop_red_ink(np.asarray(frame.convert("RGB"), dtype=np.uint8))
    return np.asarray(frame.convert("L"), dtype=np.uint8)


# A pixel whose red exceeds both green and blue by this much is red ink: our forms are printed in black, and people
# write in black, blue or pencil, so red on a page is a seal or a 受付印 (朱肉). Measured on generated colour scans
# (samples/stamps.py, JPEG 35–70): seal strokes ≥ 90 over the paper, the pink fringe JPEG leaves around them 30–60,
# black and blue ink and grey paper under uneven light ≤ 15.
RED_INK_MARGIN = 30
# Red ink reflects about 80% of the red light paper does (vermilion more): lifting a red pixel's red channel by this
# much turns the seal into paper, so JPEG noise over it no longer reaches the ink threshold (crops.INK_DELTA).
RED_INK_LIFT = 1.25


def drop_red_ink(rgb: np.ndarray) -> np.ndarray:
    """Grey of a colour page with red ink taken out: where red dominates, the pixel is as light as its red
    channel, lifted (what the paper under the seal reflects in red light, as a red dropout filter sees it); elsewhere
    ordinary luminance. A black stroke under a red seal stays black (its red channel is dark too)."""
    import cv2

    rgb16 = rgb.astype(np.int16)
    red, green, blue = rgb16[..., 0], rgb16[..., 1], rgb16[..., 2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    reddish = (red - np.maximum(green, blue)) > RED_INK_MARGIN
    if not reddish.any():
        return grey
    # JPEG spreads a seal's colour over a pixel or two around each stroke at half resolution: widen the mask so the
    # fringe goes with the stroke.
    reddish = cv2.dilate(reddish.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    out = grey.copy()
    lifted = np.clip(rgb[..., 0][reddish].astype(np.float32) * RED_INK_LIFT, 0, 255).astype(np.uint8)
    out[reddish] = np.maximum(grey[reddish], lifted)
    return out


def _square_pixels(source: str, page_number: int, grey: np.ndarray, dpi) -> LoadedPage:
    """Fax is 200×100 dpi: stretch the short axis so every later step sees square pixels."""
    import cv2

    if not dpi or not dpi[0] or not dpi[1]:
        return LoadedPage(source, page_number, grey, None)
    dpi_x, dpi_y = float(dpi[0]), float(dpi[1])
    if abs(dpi_x - dpi_y) / max(dpi_x, dpi_y) > 0.05:
        target = max(dpi_x, dpi_y)
        height, width = grey.shape
        new_size = (round(width * target / dpi_x), round(height * target / dpi_y))
        grey = cv2.resize(grey, new_size, interpolation=cv2.INTER_LINEAR)
        return LoadedPage(source, page_number, grey, target)
    return LoadedPage(source, page_number, grey, dpi_x)


def _iter_pdf(path: Path, renderer: PdfRenderer) -> Iterator[LoadedPage | LoadError]:
    if renderer == "pypdfium2":
        yield from _iter_pdf_pdfium(path)
    else:
        yield from _iter_pdf_poppler(path)


def _iter_pdf_poppler(path: Path) -> Iterator[LoadedPage | LoadError]:
    from pdf2image import convert_from_path, pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        info = pdfinfo_from_path(str(path))
    except PDFInfoNotInstalledError as exc:
        raise LoadError("poppler-utils がありません: make setup を実行してください / poppler-utils missing") from exc
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise LoadError(_pdf_reason(path, str(exc))) from exc
    page_count = int(info.get("Pages", 0))
    if page_count == 0:
        raise LoadError("PDFにページがありません / the PDF has no pages")
    for number in range(1, page_count + 1):
        try:
            images = convert_from_path(str(path), dpi=PDF_DPI, first_page=number, last_page=number)
        except Exception as exc:
            yield LoadError(f"{number}ページ目を描画できません / page {number} cannot be rendered: {type(exc).__name__}")
            continue
        if not images:
            yield LoadError(f"{number}ページ目が空です / page {number} rendered nothing")
            continue
        yield _square_pixels(path.name, number, drop_red_ink(np.asarray(images[0].convert("RGB"))), (PDF_DPI, PDF_DPI))


def _iter_pdf_pdfium(path: Path) -> Iterator[LoadedPage | LoadError]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise LoadError(_pdf_reason(path, str(exc))) from exc
    try:
        if len(document) == 0:
            raise LoadError("PDFにページがありません / the PDF has no pages")
        scale = PDF_DPI / 72
        for index in range(len(document)):
            try:
                page = document[index]
                try:
                    width_pt, height_pt = page.get_size()
                    if width_pt * scale * height_pt * scale > MAX_PAGE_PIXELS:
                        yield LoadError(f"{index + 1}ページ目: 用紙が大きすぎます（{width_pt / 72 * 25.4:.0f}×"
                                        f"{height_pt / 72 * 25.4:.0f} mm）/ page {index + 1} is far larger than a form")
                        continue
                    # Rendered in colour, so that red seals can be dropped before the page turns grey.
                    bitmap = page.render(scale=scale)
                    pixels = drop_red_ink(np.array(bitmap.to_pil().convert("RGB")))
                    bitmap.close()
                    # pypdfium2 sizes the bitmap as ceil(points × scale), and float noise in the points makes an
                    # exact 1654.0 px come out as 1655; poppler gives 1654. Trim it so both give the same page.
                    width, height = (math.ceil(points * scale - 0.01) for points in page.get_size())
                    pixels = pixels[:height, :width]
                finally:
                    page.close()
            except Exception as exc:
                yield LoadError(f"{index + 1}ページ目を描画できません / page {index + 1} cannot be rendered: {type(exc).__name__}")
                continue
            if min(pixels.shape) < MIN_PAGE_SIDE:
                yield LoadError(f"{index + 1}ページ目: 用紙が小さすぎます（{pixels.shape[1]}×{pixels.shape[0]}）/ "
                                f"page {index + 1} too small to be a form")
                continue
            yield _square_pixels(path.name, index + 1, pixels, (PDF_DPI, PDF_DPI))
    finally:
        document.close()


def _pdf_reason(path: Path, message: str) -> str:
    """Why a PDF did not open, from the file itself first: PDFium's last error can be left over from an earlier
    document (a page-less PDF fails with "Success", or with the password error of the PDF opened before it)."""
    head, tail = _ends_of(path)
    if not head.lstrip().startswith(b"%PDF"):
        return "PDFが壊れているか、PDFではありません / the PDF is damaged or not a PDF"
    if b"/Encrypt" in tail or b"/Encrypt" in head:
        return "PDFにパスワードが掛かっています / the PDF is encrypted"
    if re.search(rb"/Count\s+0\b", head + tail) and not re.search(rb"/Count\s+[1-9]", head + tail):
        return "PDFにページがありません / the PDF has no pages"
    if "password" in message.lower():
        return "PDFにパスワードが掛かっています / the PDF is encrypted"
    return "PDFが壊れているか、途中で切れています / the PDF is damaged or truncated"


def _ends_of(path: Path, size: int = 1 << 16) -> tuple[bytes, bytes]:
    """The first and last `size` bytes (where PDF header and trailer live), never the whole file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(size)
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return head, handle.read(size)
    except OSError:
        return b"", b""
