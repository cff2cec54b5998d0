"""What a clerk's file may be, and what we write for it: names that cannot crash or leak, a file taken only once it is
whole (its format ends, no process holds it open for writing), an iPhone HEIC photo and a transparent PNG read."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from flows.inbox_safety import display_name
from flows.inbox_whole import incomplete_reason
from flows.inbox_writers import open_for_writing
from ledger.privacy import mask_personal_numbers
from ocr.file_names import MAX_STEM_BYTES, result_file_name
from ocr.load import iter_pages

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "scans"
SHA = hashlib.sha256(b"scan").hexdigest()


def test_a_personal_number_is_masked_however_it_is_grouped() -> None:
    for written in ("9876.5432.1093", "9876_5432_1093", "9876 5432 1093", "9876-5432-1093", "９８７６５４３２１０９３",
                    "９８７６．５４３２．１０９３", "9876  5432  1093", "987654321093"):
        masked = mask_personal_numbers(f"田中 {written}.jpg")
        assert "5432" not in masked and "５４３２" not in masked, (written, masked)
        assert "5432" not in result_file_name(f"田中 {written}.jpg", 1, SHA)
        assert "5432" not in display_name(f"{written} 田中.jpg")
    assert mask_personal_numbers("法人番号 1234567890123") == "法人番号 1234567890123"  # 13 digits are public


def test_result_names_are_short_plain_and_never_shared_by_two_scans() -> None:
    assert result_file_name("scan_0042.pdf", 1, SHA) == "scan_0042_p001.json"  # a plain name stays as it is
    long_name = "申" * 83 + ".jpg"  # 253 bytes in UTF-8, legal on the inbox's file system
    name = result_file_name(long_name, 12, SHA)
    assert len(name.encode()) <= MAX_STEM_BYTES + 40 and name.endswith(f"_{SHA[:12]}_p012.json")
    odd = "a\nb\tc\u202ed\u200f<>:\"|?*e.png"
    name = result_file_name(odd, 1, SHA)
    assert not set(name) & set("\n\t\u202e\u200f<>:\"|?*/\\"), name
    for reserved in ("CON.jpg", "nul.png", "COM1.pdf", "LPT9.tif"):
        stem = result_file_name(reserved, 1, SHA).split("_p001")[0]
        assert stem.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT9"}, stem
    assert result_file_name("..jpg", 1, SHA) != result_file_name(".jpg", 1, hashlib.sha256(b"other").hexdigest())
    assert display_name("a\nb\u202ec.jpg") == "a_b_c.jpg"


def _each_format(folder: Path) -> dict[str, Path]:
    with Image.open(SAMPLES / "scan_0003.jpg") as source:
        page = source.convert("RGB").resize((600, 850))
    import pillow_heif

    pillow_heif.register_heif_opener()
    made = {}
    for kind, suffix in (("PDF", ".pdf"), ("JPEG", ".jpg"), ("PNG", ".png"), ("TIFF", ".tif"), ("HEIF", ".heic")):
        path = folder / f"whole{suffix}"
        page.save(path, format=kind)
        made[suffix] = path
    return made


def test_a_file_cut_short_is_seen_as_not_whole_in_every_format(tmp_path: Path) -> None:
    for suffix, whole in _each_format(tmp_path).items():
        assert incomplete_reason(whole) is None, suffix
        data = whole.read_bytes()
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: len(data) * 2 // 5])
        reason = incomplete_reason(cut)
        assert reason and "/ " in reason, (suffix, reason)


def test_a_file_another_process_holds_open_for_writing_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "copying.jpg"
    path.write_bytes(b"\xff\xd8 first half")
    other = tmp_path / "done.jpg"
    other.write_bytes(b"\xff\xd8 done \xff\xd9")
    writer = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "h = open(sys.argv[1], 'ab'); print('open', flush=True); time.sleep(60)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        assert open_for_writing([path, other]) == {path}
        reader = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                                   "h = open(sys.argv[1], 'rb'); print('open', flush=True); time.sleep(60)",
                                   str(other)], stdout=subprocess.PIPE, text=True)
        try:
            assert reader.stdout.readline().strip() == "open"
            assert open_for_writing([other]) == set(), "a reader is not a writer"
        finally:
            reader.kill()
            reader.wait()
    finally:
        writer.kill()
        writer.wait()
    assert open_for_writing([path]) == set()


def test_an_iphone_heic_photo_is_read(tmp_path: Path) -> None:
    import pillow_heif

    from ocr.batch import read_files

    pillow_heif.register_heif_opener()
    photo = tmp_path / "IMG_0001.HEIC"
    with Image.open(SAMPLES / "scan_0003.jpg") as source:
        source.convert("RGB").save(photo, format="HEIF", quality=90)
    assert photo.read_bytes()[4:12] == b"ftypheic"
    [(_, results)] = list(read_files([photo], workers=1))
    [result] = results
    assert result.error is None and result.form_id == "ido_todoke", result.error
    assert sum(f.status == "accepted" for f in result.fields.values()) >= 5


def test_a_transparent_png_is_laid_on_white_paper(tmp_path: Path) -> None:
    with Image.open(SAMPLES / "scan_0003.jpg") as source:
        grey = np.asarray(source.convert("L"))
    # Ink is opaque black, paper fully transparent (as exported from a drawing app, whose colour under it is black).
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    [page] = list(iter_pages(path))
    assert page.pixels.mean() > 200, "the transparent paper came out dark"
    assert abs(float(page.pixels.mean()) - float(grey.mean())) < 12
