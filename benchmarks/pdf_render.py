"""PDF page rendering: poppler (pdf2image) against PDFium (pypdfium2), page by page at the template dpi.

    python benchmarks/pdf_render.py --count 20 --seed 910000 [--json]

Builds one multi-page PDF of `count` generated scans (samples.generate.generate_bundle + write_bundle, as a
multifunction printer's scan-to-folder writes them) and loads it with ocr.load.iter_pages once per renderer,
one page at a time, as the reader does. Each renderer runs in a fresh process whose process tree is measured
(benchmarks/memory.py): `peak_rss_mb` includes the pdftoppm processes pdf2image starts. `pages_per_second`
counts rendering to a greyscale numpy page, from opening the file to the last page.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.memory import run_measured  # noqa: E402

RENDERERS = ("pdf2image", "pypdfium2")


def _render_all(path: Path, renderer: str) -> dict:
    """In the measured process: every page through ocr.load, timed per page."""
    from ocr.load import LoadError, iter_pages

    timings: list[float] = []
    sizes: set[tuple[int, int]] = set()
    errors = 0
    started = last = time.perf_counter()
    for page in iter_pages(path, renderer):  # type: ignore[arg-type]
        now = time.perf_counter()
        timings.append(now - last)
        if isinstance(page, LoadError):
            errors += 1
        else:
            sizes.add(page.pixels.shape)
        last = time.perf_counter()
    total = time.perf_counter() - started
    return {"pages": len(timings), "errors": errors, "seconds": total, "timings": timings, "sizes": sorted(sizes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--form", default="ido_todoke", help="form id, or a comma list")
    parser.add_argument("--profile", default="office200")
    parser.add_argument("--count", type=int, default=10, help="pages in the PDF")
    parser.add_argument("--seed", type=int, default=910000)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    from ocr.load import PDF_DPI
    from samples.generate import generate_bundle, write_bundle

    report: dict = {"pages": args.count, "dpi": PDF_DPI, "renderers": {}}
    with tempfile.TemporaryDirectory(prefix="taxintake-pdf-") as scratch:
        pages = generate_bundle(args.form.split(","), count=args.count, style="mixed", profile=args.profile,
                                seed=args.seed)
        path = write_bundle(pages, Path(scratch) / "bundle.pdf")
        del pages
        report["pdf_mb"] = round(path.stat().st_size / 2**20, 2)
        for renderer in RENDERERS:
            run, memory = run_measured(_render_all, path, renderer)
            timings_ms = [t * 1000 for t in run["timings"]]
            figures = {
                "pages": run["pages"],
                "errors": run["errors"],
                "pages_per_second": round(run["pages"] / run["seconds"], 3) if run["seconds"] else 0.0,
                "median_ms_per_page": round(statistics.median(timings_ms), 1) if timings_ms else 0.0,
                "max_ms_per_page": round(max(timings_ms), 1) if timings_ms else 0.0,
                **memory,
                "page_sizes": [list(size) for size in run["sizes"]],
            }
            report["renderers"][renderer] = figures
            print(f"{renderer:10s} pages={figures['pages']:4d} errors={figures['errors']}  "
                  f"pages_per_second={figures['pages_per_second']:.2f}  "
                  f"median_ms_per_page={figures['median_ms_per_page']:.1f}  max_ms_per_page={figures['max_ms_per_page']:.1f}  "
                  f"peak_rss_mb={figures['peak_rss_mb']:.1f}  "
                  f"peak_rss_largest_process_mb={figures['peak_rss_largest_process_mb']:.1f}  sizes={figures['page_sizes']}")
    fastest = max(report["renderers"], key=lambda r: report["renderers"][r]["pages_per_second"])
    report["fastest"] = fastest
    print(f"fastest: {fastest}  ({report['pdf_mb']} MB PDF, {args.count} pages at {PDF_DPI} dpi)")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
