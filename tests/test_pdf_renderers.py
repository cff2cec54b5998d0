"""Both PDF renderers (poppler through pdf2image, PDFium through pypdfium2) give the reader the same page."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ocr.load import LoadedPage, iter_pages
from samples.generate import generate_bundle, write_bundle


def test_both_renderers_give_the_same_page(tmp_path: Path) -> None:
    path = write_bundle(generate_bundle(["ido_todoke"], count=2, style="printed", profile="office200", seed=910001),
                        tmp_path / "bundle.pdf")
    poppler = list(iter_pages(path, "pdf2image"))
    pdfium = list(iter_pages(path, "pypdfium2"))
    assert len(poppler) == len(pdfium) == 2
    def difference(a: LoadedPage, b: LoadedPage) -> np.ndarray:
        return np.abs(a.pixels.astype(np.int16) - b.pixels.astype(np.int16))

    for a, b in zip(poppler, pdfium):
        assert isinstance(a, LoadedPage) and isinstance(b, LoadedPage)
        assert a.pixels.shape == b.pixels.shape and a.dpi == b.dpi == 200
        # The scans are embedded as JPEG: the two decoders and resamplers differ by a few levels (measured mean
        # 4.8 of 255; poppler is 1.9 from the image written, PDFium 3.8), far less than two different pages.
        assert difference(a, b).mean() < 8.0
        assert (difference(a, b) > 96).mean() < 0.02
    other_page = difference(poppler[0], pdfium[1])
    assert other_page.mean() > 2 * difference(poppler[0], pdfium[0]).mean()
