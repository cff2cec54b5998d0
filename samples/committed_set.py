"""The small set of scans committed under samples/scans for the demo and the tests (regenerate: this module)."""
from __future__ import annotations

import shutil
from pathlib import Path

from samples.generate import blank_separator_page, generate_bundle, generate_page, write_bundle, write_page

SCANS = Path(__file__).resolve().parent / "scans"

SINGLE_PAGES = [  # (form, style, profile, seed)
    ("ido_todoke", "printed", "clean300", 101),
    ("ido_todoke", "printed", "office200", 102),
    ("ido_todoke", "printed", "office200", 103),
    ("ido_todoke", "printed", "skewed", 104),
    ("ido_todoke", "handwritten", "office200", 105),
    ("ido_todoke", "handwritten", "office200", 106),
    ("hojin_shinkoku", "printed", "office200", 107),
    ("hojin_shinkoku", "printed", "fax", 108),
    ("hojin_shinkoku", "handwritten", "skewed", 109),
    ("kyuyo_hokoku", "printed", "office200", 110),
    ("kyuyo_hokoku", "handwritten", "clean300", 111),
    ("kyuyo_hokoku", "printed", "photo", 112),
]
BUNDLE = [("ido_todoke", "printed", "office200", 201), ("ido_todoke", "printed", "office200", 202)]


def build(out: Path = SCANS) -> list[Path]:
    if out.exists():
        shutil.rmtree(out)
    written = []
    for index, (form_id, style, profile, seed) in enumerate(SINGLE_PAGES, start=1):
        page = generate_page(form_id, style=style, profile=profile, seed=seed)
        written.append(write_page(page, out, f"scan_{index:04d}"))
    bundle = [generate_page(form_id, style=s, profile=p, seed=seed) for form_id, s, p, seed in BUNDLE]
    bundle.insert(1, blank_separator_page())
    written.append(write_bundle(bundle, out / "bundle_0001.pdf"))
    # The mail as it comes: all three forms mixed, printed and handwritten, a blank sheet between groups.
    mixed = generate_bundle(["ido_todoke", "hojin_shinkoku", "kyuyo_hokoku"], count=4, style="mixed",
                            profile="office200", seed=301, separator_every=2)
    written.append(write_bundle(mixed, out / "bundle_0002.tif"))
    return written


if __name__ == "__main__":
    for path in build():
        print(path)
