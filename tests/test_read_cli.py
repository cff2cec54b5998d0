"""`taxintake read` writes the read-result contract of DESIGN.md, one JSON file per page, from real OCR."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "scans"


@pytest.fixture(scope="module")
def read_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("read")
    completed = subprocess.run(
        [sys.executable, "-m", "taxintake.cli", "read", str(SAMPLES / "scan_0002.jpg"), str(SAMPLES / "bundle_0001.pdf"),
         str(SAMPLES / "bundle_0002.tif"), "--out", str(out), "--workers", "2"],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return out, completed.stdout


def test_one_json_per_page_named_after_source_and_page(read_out):
    out, _ = read_out
    assert sorted(p.name for p in out.glob("*.json")) == [
        "bundle_0001_p001.json", "bundle_0001_p002.json", "bundle_0001_p003.json",
        *(f"bundle_0002_p{page:03d}.json" for page in range(1, 6)), "scan_0002_p001.json"]


def test_a_mixed_multipage_tiff_is_classified_page_by_page(read_out):
    out, _ = read_out
    truth = json.loads((SAMPLES / "bundle_0002.truth.json").read_text(encoding="utf-8"))
    expected = [page["form_id"] for page in truth["pages"]]
    assert {"ido_todoke", "hojin_shinkoku", "kyuyo_hokoku", None} <= set(expected)
    read = [json.loads((out / f"bundle_0002_p{n:03d}.json").read_text(encoding="utf-8"))["form_id"]
            for n in range(1, len(expected) + 1)]
    assert read == expected


def test_the_contract_shape_and_normalised_values(read_out):
    out, _ = read_out
    result = json.loads((out / "scan_0002_p001.json").read_text(encoding="utf-8"))
    truth = json.loads((SAMPLES / "scan_0002.truth.json").read_text(encoding="utf-8"))
    assert result["source"] == "scan_0002.jpg" and result["page"] == 1
    assert result["form_id"] == "ido_todoke" and result["template_version"] == "令和7年度"
    assert isinstance(result["skew_degrees"], float) and isinstance(result["seconds"], float)
    assert abs(result["skew_degrees"] - truth["skew_degrees"]) < 0.2
    for name, field in result["fields"].items():
        assert set(field) == {"value", "confidence", "status", "reasons"}, name
        assert field["status"] in ("accepted", "review", "empty")
        assert 0.0 <= field["confidence"] <= 1.0
    fields = result["fields"]
    assert re.fullmatch(r"\d+", fields["nenzeigaku"]["value"])  # no commas, no 円
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["seinengappi"]["value"])  # ISO from 和暦
    assert fields["my_number"]["value"] == truth["fields"]["my_number"]
    assert fields["seinengappi_era"]["value"] == truth["fields"]["seinengappi_era"]
    assert fields["ido_jiyu"]["value"] == truth["fields"]["ido_jiyu"]


def test_a_blank_separator_page_is_said_to_be_one(read_out):
    out, stdout = read_out
    blank = json.loads((out / "bundle_0001_p002.json").read_text(encoding="utf-8"))
    assert blank["form_id"] is None and "blank page" in blank["error"]
    assert "blank page" in stdout


def test_no_my_number_in_what_the_command_prints(read_out):
    _, stdout = read_out
    from ocr.checkdigits import is_valid_my_number

    assert not [m for m in re.findall(r"\d{12}", stdout) if is_valid_my_number(m)]
