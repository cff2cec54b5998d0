"""Check a template against its blank (boxes over no printed frame, overlapping, off the page) and try it on
filled scans (per field: its crop, reading and status)."""
from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ocr.recognize import Recognizer
from ocr.ruling import PixelBox, find_ruling, line_coverage
from ocr.templates import Template

FRAME_SLACK_MM = 0.75
MIN_SIDE_ON_LINE = 0.6
MIN_OVERLAP_MM = 0.6
PERSONAL_KINDS = ("my_number",)


@dataclass(frozen=True)
class Finding:
    field: str
    problem: str  # "off_page", "no_frame", "overlap"
    message: str  # Japanese first


def check_fields(raw_fields: list[dict], page_mm: tuple[float, float], blank: np.ndarray, dpi: int) -> list[Finding]:
    """Findings for a template's fields as written (not yet validated): a box off the page, a box whose sides are
    not on the blank's printed lines, two boxes that overlap."""
    findings: list[Finding] = []
    ruling = find_ruling(blank, dpi)
    slack = max(1, round(FRAME_SLACK_MM * dpi / 25.4))
    width_mm, height_mm = page_mm
    boxes: list[tuple[str, tuple[float, float, float, float]]] = []
    for raw in raw_fields:
        name = str(raw.get("name", "?"))
        x, y, w, h = (float(v) for v in raw["box"])
        boxes.append((name, (x, y, w, h)))
        if x < 0 or y < 0 or x + w > width_mm or y + h > height_mm:
            findings.append(Finding(name, "off_page", f"{name}: 枠が用紙の外にはみ出しています / box lies off the page"))
            continue
        to_px = dpi / 25.4
        box_px = PixelBox(round(x * to_px), round(y * to_px), round((x + w) * to_px), round((y + h) * to_px))
        coverage = line_coverage(ruling, box_px, slack)
        off = [side for side, share in coverage.items() if share < MIN_SIDE_ON_LINE]
        if off:
            sides = "・".join({"top": "上", "bottom": "下", "left": "左", "right": "右"}[s] for s in off)
            findings.append(Finding(name, "no_frame", f"{name}: 枠の{sides}辺が印刷された罫線に乗っていません / "
                                                      f"box sides {', '.join(off)} lie on no printed frame line"))
    for i, (name_a, a) in enumerate(boxes):
        for name_b, b in boxes[i + 1:]:
            overlap_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            overlap_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            if overlap_w > MIN_OVERLAP_MM and overlap_h > MIN_OVERLAP_MM:
                findings.append(Finding(name_a, "overlap", f"{name_a} と {name_b} の枠が重なっています / "
                                                           f"boxes {name_a} and {name_b} overlap"))
    return findings


def overlay(blank: np.ndarray, raw_fields: list[dict], dpi: int, findings: list[Finding] = ()) -> np.ndarray:
    """The blank in colour with every box drawn and numbered: blue fine, red where a finding names the field."""
    picture = cv2.cvtColor(blank, cv2.COLOR_GRAY2BGR)
    flagged = {f.field for f in findings}
    to_px = dpi / 25.4
    for number, raw in enumerate(raw_fields, start=1):
        x, y, w, h = (float(v) for v in raw["box"])
        colour = (0, 0, 220) if raw.get("name") in flagged else (200, 90, 0)
        top_left = (round(x * to_px), round(y * to_px))
        cv2.rectangle(picture, top_left, (round((x + w) * to_px), round((y + h) * to_px)), colour, 2)
        cells = raw.get("cells")
        if cells:
            for i in range(1, int(cells)):
                cx = round((x + w * i / int(cells)) * to_px)
                cv2.line(picture, (cx, round(y * to_px)), (cx, round((y + h) * to_px)), colour, 1)
        cv2.putText(picture, str(number), (top_left[0] + 3, top_left[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colour, 1, cv2.LINE_AA)
    return picture


@dataclass
class TrialRow:
    name: str
    label: str
    kind: str
    value: str
    status: str
    confidence: float
    reasons: list[str]
    crop_png: bytes | None  # None for a 個人番号: its picture is never put on a trial sheet


@dataclass
class TrialPage:
    source: str
    page: int
    error: str | None = None
    rows: list[TrialRow] = field(default_factory=list)


def try_template(path: Path, template: Template, recognizer: Recognizer) -> list[TrialPage]:
    """Read every page of a filled scan with `template` only: each field's crop, reading and status."""
    from ocr import crops
    from ocr.classify import UnknownForm, place_page
    from ocr.load import LoadError, iter_pages
    from ocr.read import read_fields

    pages: list[TrialPage] = []
    try:
        for number, page in enumerate(iter_pages(path), start=1):
            if isinstance(page, LoadError):
                pages.append(TrialPage(path.name, number, str(page)))
                continue
            try:
                placement = place_page(page, [template])
            except UnknownForm as exc:
                pages.append(TrialPage(path.name, number, str(exc)))
                continue
            readings = read_fields(placement.registered, template, recognizer)
            rows = []
            for spec in template.fields:
                reading = readings[spec.name]
                personal = spec.kind in PERSONAL_KINDS
                crop = crops.crop_box(placement.registered, template, spec.box, inset_mm=0.0)
                value = "" if reading.value is None else str(reading.value)
                rows.append(TrialRow(
                    spec.name, spec.label, spec.kind, _masked(value) if personal else value, reading.status,
                    reading.confidence, list(reading.reasons),
                    None if personal else cv2.imencode(".png", crop)[1].tobytes()))
            pages.append(TrialPage(path.name, number, None, rows))
    except LoadError as exc:
        pages.append(TrialPage(path.name, 1, str(exc)))
    return pages


def _masked(value: str) -> str:
    return "●" * len(value) if value else ""


STATUS_LABELS = {"accepted": "自動確定", "review": "要確認", "empty": "空欄"}


def trial_table(pages: list[TrialPage]) -> str:
    lines = []
    for page in pages:
        lines.append(f"== {page.source} p{page.page}")
        if page.error:
            lines.append(f"  {page.error}")
            continue
        for row in page.rows:
            reasons = f"  ({', '.join(row.reasons)})" if row.reasons else ""
            lines.append(f"  {row.name:<28} {row.kind:<12} {STATUS_LABELS.get(row.status, row.status):<5} "
                         f"{row.confidence:4.2f}  {row.value}{reasons}")
    return "\n".join(lines)


def trial_sheet_html(template: Template, pages: list[TrialPage]) -> str:
    """One self-contained page: per field its crop (embedded), reading and status."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>試し読み {html.escape(template.form_id)}</title>",
             "<style>td,th{border:1px solid #999;padding:2px 6px}table{border-collapse:collapse}"
             ".review{background:#fee}.empty{color:#888}</style>",
             f"<h1>試し読み / trial read: {html.escape(template.title)}（{html.escape(template.version)}）</h1>"]
    for page in pages:
        parts.append(f"<h2>{html.escape(page.source)} p{page.page}</h2>")
        if page.error:
            parts.append(f"<p class='review'>{html.escape(page.error)}</p>")
            continue
        parts.append("<table><tr><th>項目</th><th>画像</th><th>読取値</th><th>状態</th><th>確信度</th><th>理由</th></tr>")
        for row in page.rows:
            image = (f"<img src='data:image/png;base64,{base64.b64encode(row.crop_png).decode()}'>"
                     if row.crop_png else "（個人番号: 画像なし）")
            parts.append(f"<tr class='{row.status}'><td>{html.escape(row.label)}<br><code>{row.name}</code></td>"
                         f"<td>{image}</td><td>{html.escape(row.value)}</td>"
                         f"<td>{STATUS_LABELS.get(row.status, row.status)}</td><td>{row.confidence:.2f}</td>"
                         f"<td>{html.escape(', '.join(row.reasons))}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)
