"""The loaders and normalisers on bad input: only clerk-readable LoadErrors come out, memory stays bounded,
and fuzzed bytes and text (hypothesis, a bounded number of examples) never crash them."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ocr.load import LoadedPage, LoadError, iter_pages
from ocr.normalize import normalize
from ocr.templates import available_form_ids, load_template
from ocr.validate import validate_field
from samples.bad_inputs import CORPUS, write_corpus

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _outcomes(path: Path) -> list[LoadedPage | LoadError]:
    try:
        return list(iter_pages(path))
    except LoadError as exc:
        return [exc]


def _assert_clerk_reason(error: LoadError) -> None:
    text = str(error)
    japanese, slash, english = text.partition("/ ")
    assert JAPANESE.search(japanese), f"Japanese first: {text}"
    assert slash and re.search(r"[A-Za-z]", english), f"and English after: {text}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list]:
    inbox = tmp_path_factory.mktemp("corpus") / "inbox"
    return inbox, write_corpus(inbox)


def test_the_corpus_has_at_least_25_kinds_including_those_the_issue_names(corpus) -> None:
    _, items = corpus
    kinds = {item.kind for item in items}
    assert len(kinds) >= 25
    for named in ("zero-byte file", "truncated PDF", "encrypted PDF", "PDF with no pages", "300-page PDF",
                  "text file named .pdf", "PNG claiming 60000×60000", "40×40 image", "blank page",
                  "upside-down page", "a form we do not know", "heavy-perspective phone photo", "the same file twice",
                  "file name with Japanese and spaces", "symbolic link", "twice the skew a form may have",
                  "corrupt TIFF page in the middle"):
        assert named in kinds


def test_every_file_of_the_corpus_loads_or_gives_a_clerk_reason(corpus) -> None:
    inbox, items = corpus
    for item in items:
        path = inbox / item.name
        if path.is_symlink() or not path.is_file():
            continue
        outcomes = _outcomes(path)
        assert outcomes, item.kind
        for outcome in outcomes:
            if isinstance(outcome, LoadError):
                _assert_clerk_reason(outcome)
            else:
                assert outcome.pixels.dtype.name == "uint8" and outcome.pixels.ndim == 2
                assert outcome.pixels.size <= 80_000_000


@pytest.mark.parametrize("name, reason", [
    ("empty.pdf", "ファイルが空です"), ("truncated.pdf", "PDFが壊れている"), ("encrypted.pdf", "パスワード"),
    ("no_pages.pdf", "ページがありません"), ("memo.pdf", "PDFではありません"), ("huge_claim.png", "大きすぎ"),
    ("bomb.png", "大きすぎ"), ("huge_claim.tif", "大きすぎ"), ("huge_page.pdf", "大きすぎ"), ("tiny.png", "小さすぎ"),
    ("truncated.jpg", "途中で切れています"), ("申請書.docx", "対応していない形式"), ("page.png", "画像を開けません"),
])
def test_a_broken_file_says_why(corpus, name: str, reason: str) -> None:
    inbox, _ = corpus
    outcomes = _outcomes(inbox / name)
    assert len(outcomes) == 1 and isinstance(outcomes[0], LoadError), name
    assert reason in str(outcomes[0])


def test_a_no_pages_pdf_is_told_apart_after_an_encrypted_one(corpus) -> None:
    """PDFium's last error is global: the reason must come from the file, not from the PDF opened before."""
    inbox, _ = corpus
    for name, reason in (("encrypted.pdf", "パスワード"), ("no_pages.pdf", "ページがありません"),
                         ("encrypted.pdf", "パスワード"), ("memo.pdf", "PDFではありません")):
        assert reason in str(_outcomes(inbox / name)[0])


def test_a_corrupt_page_in_the_middle_of_a_tiff_spares_the_others(corpus) -> None:
    inbox, _ = corpus
    outcomes = _outcomes(inbox / "bundle_corrupt_middle.tif")
    assert [type(o).__name__ for o in outcomes] == ["LoadedPage", "LoadError", "LoadedPage"]
    assert str(outcomes[1]).startswith("2ページ目")


_MEMORY_PROBE = """
import json, sys
from pathlib import Path
from ocr.load import LoadError, iter_pages
counts = {}
for name in sys.argv[1:]:
    pages = errors = 0
    try:
        for outcome in iter_pages(Path(name)):
            pages += not isinstance(outcome, LoadError)
            errors += isinstance(outcome, LoadError)
    except LoadError:
        errors += 1
    counts[Path(name).name] = [pages, errors]
# VmHWM, not ru_maxrss: Linux carries the forking parent's peak over exec into ru_maxrss.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"counts": counts, "peak_mb": peak_kb / 1024}))
"""


def test_memory_stays_bounded_on_bombs_and_a_300_page_pdf(corpus) -> None:
    inbox, _ = corpus
    names = ["huge_claim.png", "bomb.png", "huge_claim.tif", "huge_page.pdf", "three_hundred.pdf", "tiny.png"]
    done = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, *[str(inbox / n) for n in names]],
                          capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["counts"]["three_hundred.pdf"] == [300, 0], "streamed page by page, every page given"
    for name in ("huge_claim.png", "bomb.png", "huge_claim.tif", "huge_page.pdf"):
        assert report["counts"][name] == [0, 1], name
    # Decoded whole, the bomb alone is 90 MB and the 60000×60000 claim 3.6 GB; interpreter, numpy, PIL and PDFium
    # take about 100 MB here.
    assert report["peak_mb"] < 250, report


def _small_files() -> dict[str, bytes]:
    image = Image.new("L", (240, 320), 255)
    for x in range(20, 220, 10):
        image.putpixel((x, 40), 0)
    files = {}
    for suffix, fmt, options in ((".png", "PNG", {}), (".jpg", "JPEG", {"quality": 80}),
                                 (".tif", "TIFF", {"compression": "tiff_lzw"}), (".pdf", "PDF", {"resolution": 72})):
        out = io.BytesIO()
        image.save(out, format=fmt, **options)
        files[suffix] = out.getvalue()
    return files


SMALL_FILES = _small_files()


@FUZZ
@given(suffix=st.sampled_from(sorted(SMALL_FILES)), data=st.data())
def test_fuzzed_files_only_ever_give_load_errors(tmp_path_factory, suffix: str, data) -> None:
    original = bytearray(SMALL_FILES[suffix])
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=12))
    for position, value in edits:
        original[position] = value
    cut = data.draw(st.integers(0, len(original)))
    if data.draw(st.booleans()):
        original = original[:cut]
    path = tmp_path_factory.mktemp("fuzz") / f"fuzzed{suffix}"
    path.write_bytes(bytes(original))
    for outcome in _outcomes(path):  # anything but a LoadError escaping fails the test
        if isinstance(outcome, LoadError):
            _assert_clerk_reason(outcome)
        else:
            assert outcome.pixels.ndim == 2


_SPECS = [spec for form_id in available_form_ids() for spec in load_template(form_id).fields]


@FUZZ
@given(spec=st.sampled_from(_SPECS), text=st.text(max_size=40), era=st.one_of(st.none(), st.text(max_size=4)))
def test_fuzzed_text_never_crashes_the_normalisers_and_validators(spec, text: str, era) -> None:
    normalised = normalize(spec.kind, text, spec, era_value=era)
    assert isinstance(normalised.problems, (list, tuple))
    if normalised.value is not None:
        assert all(isinstance(reason, str) for reason in validate_field(spec, normalised.value))
