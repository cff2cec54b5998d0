"""`taxintake read <files or folders> --out DIR`: read-result JSON per page; nothing to the ledger or legacy system."""
from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, help="scan files (PDF/TIFF/JPEG/PNG/HEIC) or folders")
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON files")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--engine", default="rapidocr", help="recogniser (default rapidocr, PP-OCR)")
    parser.add_argument("--pdf-renderer", choices=["pdf2image", "pypdfium2"], default=None)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(args: argparse.Namespace) -> int:
    from ocr.batch import read_files, scan_files

    paths = scan_files(args.inputs)
    if not paths:
        print("読み取るファイルがありません / no scans found")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pages = accepted = flagged = errors = 0
    for path, results in read_files(paths, workers=args.workers, engine=args.engine, pdf_renderer=args.pdf_renderer):
        for result in results:
            pages += 1
            (args.out / result.output_name(_sha256(path))).write_text(result.model_dump_json(indent=1), encoding="utf-8")
            if result.error:
                errors += 1
                print(f"  {result.source} p{result.page}: {result.error}")
                continue
            accepted += sum(1 for f in result.fields.values() if f.status == "accepted")
            flagged += sum(1 for f in result.fields.values() if f.status == "review")
    elapsed = time.perf_counter() - started
    print(f"読取 {pages} ページ（{pages / elapsed:.2f} ページ/秒）: 自動確定 {accepted} 項目, 要確認 {flagged} 項目, "
          f"読めないページ {errors} / read {pages} pages, {accepted} fields accepted, {flagged} flagged, "
          f"{errors} pages unreadable → {args.out}")
    return 0
