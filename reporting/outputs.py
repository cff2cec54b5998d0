"""The report's files: `<batch>.csv`, `<batch>.xlsx`, `<batch>.md` and `<batch>.png` in the reports folder.

Every text cell passes through the 個人番号 mask on its way out, whatever query produced it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ledger.privacy import mask_personal_numbers
from reporting.batch_report import BatchReport, Row


@dataclass(frozen=True)
class ReportFiles:
    csv: Path
    xlsx: Path
    markdown: Path
    chart: Path


def _safe(value: Any) -> Any:
    return mask_personal_numbers(value) if isinstance(value, str) else value


def safe_rows(rows: list[Row]) -> list[Row]:
    return [{_safe(key): _safe(value) for key, value in row.items()} for row in rows]


def _frame(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(safe_rows(rows)) if rows else pd.DataFrame({"—": ["（なし / none）"]})


def markdown_table(rows: list[Row]) -> str:
    rows = safe_rows(rows)
    if not rows:
        return "（なし / none）\n"
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [str(row.get(h, "")).replace("|", "｜").replace("\n", " ") for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(report: BatchReport, chart_name: str | None = None) -> str:
    parts = [f"# バッチ {report.batch_id} 報告 / batch {report.batch_id} report\n"]
    warnings = report.trust_warnings()
    if warnings:
        parts.append("\n".join(f"> {line.strip()}" for line in warnings) + "\n")
    parts.append("```\n" + "\n".join(report.headline()) + "\n```\n")
    if chart_name:
        parts.append(f"![時間の行き先 / where the time went]({chart_name})\n")
    for title, rows in report.sections():
        parts.append(f"## {title}\n")
        parts.append(markdown_table(rows))
    return _safe("\n".join(parts))


def write_csv(report: BatchReport, path: Path) -> Path:
    """The sections one under the other, each with its title line: readable in Excel (UTF-8 with BOM)."""
    buffer = io.StringIO()
    for index, (title, rows) in enumerate(report.sections()):
        if index:
            buffer.write("\n")
        buffer.write(f"# {title}\n")
        _frame(rows).to_csv(buffer, index=False, lineterminator="\n")
    path.write_text(_safe(buffer.getvalue()), encoding="utf-8-sig")
    return path


def write_xlsx(report: BatchReport, path: Path, chart: Path | None = None) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for title, rows in report.sections():
            frame = _frame(rows)
            frame.to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            for column, header in enumerate(frame.columns, start=1):
                width = max([len(str(header))] + [len(str(v)) for v in frame.iloc[:, column - 1]])
                sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = min(60, width + 4)
        if chart is not None and chart.exists():
            from openpyxl.drawing.image import Image

            sheet = writer.book.create_sheet("グラフ chart", 1)
            sheet.add_image(Image(str(chart)), "A1")
    return path


def write_report_files(report: BatchReport, reports_dir: Path) -> ReportFiles:
    from reporting.chart import write_chart

    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = str(report.batch_id)
    chart = write_chart(report, reports_dir / f"{stem}.png")
    markdown = reports_dir / f"{stem}.md"
    markdown.write_text(render_markdown(report, chart.name), encoding="utf-8")
    return ReportFiles(csv=write_csv(report, reports_dir / f"{stem}.csv"),
                       xlsx=write_xlsx(report, reports_dir / f"{stem}.xlsx", chart),
                       markdown=markdown, chart=chart)
