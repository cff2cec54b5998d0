"""One real batch of everything an inbox receives: the bad-input corpus (samples/bad_inputs.py, 51 kinds: 255-byte
names, control characters, reserved names, a HEIC photo, a transparent PNG...) beside good
scans, a file still being written, and files named after a 個人番号; intake (a real Prefect run), the robots entering
the READY forms into legacy_sim in real chromium, and the report.

Then: every kind is accounted for (read, quarantined with a clerk's reason, refused and set aside, left to finish
writing, or recognised as a second copy), none lost, the originals kept; and a search of everything we wrote for a
valid 個人番号 in clear (log lines, Prefect logs, artifacts and flow-run parameters, report and result files, file
names, reasons and messages in the ledger, and the text OCR finds on every screenshot) finds nothing, nor the legacy
system's password."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.inbox_safety import display_name
from ocr.checkdigits import is_valid_my_number
from samples.bad_inputs import DOTTED_NUMBER, BadInput, write_corpus
from samples.generate import generate_page, write_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "scans"
# Twelve digits, grouped or not, half- or full-width (NFKC makes them ASCII), not inside a longer digit run.
TWELVE = re.compile(r"(?<!\d)(\d{4})[ \-‐－._]{0,2}(\d{4})[ \-‐－._]{0,2}(\d{4})(?!\d)")
TEXT_SUFFIXES = {".json", ".csv", ".md", ".html", ".txt", ".log", ".xml", ".yaml"}
# Machine identifiers whose digits are no one's number: sha256/sha1/md5 hex names (the archive's hash-named files)
# and UUIDs (Prefect's run and event ids; a uuid7 like 0196a1b2-0834-7712-9024-... holds three 4-digit groups that
# pass the check digit one time in ten). Only whole identifiers of exactly these shapes are set aside.
HEX_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32}"
                            r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9A-Za-z])")


def personal_numbers_in(text: str) -> list[str]:
    """Every valid 個人番号 written in clear in `text` (not counting digits inside a hex hash or a UUID)."""
    normal = HEX_IDENTIFIER.sub(" ", unicodedata.normalize("NFKC", text))
    return [m.group(0) for m in TWELVE.finditer(normal) if is_valid_my_number("".join(m.groups()))]


def test_the_search_finds_what_it_must() -> None:
    assert personal_numbers_in("番号 1234 5678 9018 です") == ["1234 5678 9018"]
    assert personal_numbers_in("１２３４５６７８９０１８") == ["123456789018"]
    assert personal_numbers_in("********9018, 123456789019, 1234567890180") == []
    assert personal_numbers_in("ログ 1234-5678-9018 / 1234.5678.9018") == ["1234-5678-9018", "1234.5678.9018"]
    sha = "267576846815e388973adab5b7ae026551415231d8240b324f46a7abf3b270a6"
    uuid7 = "0196a1b2-0834-7712-9024-3f5e6d7c8b9a"
    assert personal_numbers_in(f"archive/26/{sha}.jpg run {uuid7}") == []
    # Beside an identifier, or in something only hash-like (a letter too many, a name around it), a number is found.
    assert personal_numbers_in(f"{sha} 123456789018") == ["123456789018"]
    assert personal_numbers_in(f"{uuid7}x 267576846815e3 0834-7712-9024-3f") == ["0834-7712-9024", "267576846815",
                                                                                "0834-7712-9024"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")
        except Exception:  # noqa: BLE001 - a record that cannot format is still a line we looked at
            self.lines.append(f"{record.name} {record.msg!r} {record.args!r}")


def _texts_of_files(root: Path, skip: set[Path]) -> dict[str, str]:
    """Relative name → the text we can see in it (file names always; contents of text, xlsx and png files)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        found[f"name:{relative}"] = relative
        if not path.is_file() or any(parent in skip for parent in path.parents):
            continue
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES:
            found[relative] = path.read_text(encoding="utf-8", errors="replace")
        elif suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                found[relative] = " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
        elif suffix == ".png":
            found[relative] = ocr_text(path)
    return found


_DETECTOR = None


def ocr_text(path: Path) -> str:
    """All text PP-OCR (detection and recognition, the models inside the rapidocr wheel) finds on an image, read
    in overlapping strips so that a tall full-page screenshot stays legible."""
    global _DETECTOR
    import numpy as np
    import rapidocr
    from PIL import Image
    from rapidocr import RapidOCR

    if _DETECTOR is None:
        models = Path(rapidocr.__file__).resolve().parent / "models"
        _DETECTOR = RapidOCR(params={"Global.log_level": "warning", "Global.use_cls": False,
                                     "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                                     "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx")})
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]
    texts: list[str] = []
    for top in range(0, pixels.shape[0], 1000):
        result = _DETECTOR(np.ascontiguousarray(pixels[top: top + 1100]))
        texts += list(getattr(result, "txts", None) or [])
    return " ".join(texts)


def _prefect_records() -> dict[str, str]:
    """Prefect's own store: every log line, artifact and flow-run parameter the server holds."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        logs = client.read_logs()
        artifacts = client.read_artifacts()
        runs = client.read_flow_runs()
    return {
        "prefect logs": "\n".join(log.message for log in logs),
        "prefect artifacts": "\n".join(json.dumps(a.data, ensure_ascii=False, default=str) + str(a.description or "")
                                       for a in artifacts),
        "prefect parameters": "\n".join(json.dumps(r.parameters, ensure_ascii=False, default=str) for r in runs),
    }


def _ledger_messages(ledger_url: str) -> dict[str, str]:
    """Reasons and messages the ledger keeps for people to read (values themselves are the ledger's to hold)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(ledger_url)
    columns = {"forms": ["state_reason"], "transitions": ["reason"], "scan_files": ["original_name"],
               "audit_log": ["subject", "before", "after"], "field_values": ["reasons"], "batches": ["label", "source"],
               "intake_files": ["original_name", "error"]}
    found = {}
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        for table, names in columns.items():
            if table not in tables:
                continue
            present = {c["name"] for c in inspect(engine).get_columns(table)}
            for name in names:
                if name in present:
                    rows = connection.execute(text(f"SELECT {name} FROM {table}")).scalars().all()
                    found[f"ledger {table}.{name}"] = "\n".join(str(r) for r in rows if r is not None)
    return found


@dataclass
class Batch:
    home: Path
    ledger_url: str
    items: list[BadInput]
    outcome: object
    entered: object
    numbers: set[str]
    password: str
    places: dict[str, str]


def _keep_writing(path: Path, stop: threading.Event) -> None:
    """A scanner still sending its file: a chunk every 50 ms until told to stop."""
    with path.open("ab") as handle:
        while not stop.is_set():
            handle.write(b"%PDF-1.4 chunk\n")
            handle.flush()
            time.sleep(0.05)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, prefect_server) -> Batch:
    from flows.enter import enter
    from flows.intake import intake
    from flows.report import report_flow
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings

    home = tmp_path_factory.mktemp("batch") / "home"
    inbox = home / "inbox"
    items = write_corpus(inbox)
    # Clean printed scans the reader accepts whole (the seeds the end-to-end and scale-out tests use), so that the
    # robot enters forms and its screenshots are there to search.
    ready_pages = [generate_page("ido_todoke", style="printed", profile="clean300", seed=seed) for seed in (4243, 7301)]
    for index, page in enumerate(ready_pages):
        write_page(page, inbox, f"scan_ready_{index}")
        (inbox / f"scan_ready_{index}.truth.json").unlink()
    truth = json.loads((SAMPLES / "scan_0003.truth.json").read_text(encoding="utf-8"))
    # Clerks name files after people: a 個人番号 in a file name must not travel into anything we write.
    shutil.copy(SAMPLES / "scan_0003.jpg", inbox / f"{truth['fields']['my_number']} 高橋.jpg")
    numbers = {n for n in (*(page.truth["fields"]["my_number"] for page in ready_pages), truth["fields"]["my_number"],
                           "123456789018", DOTTED_NUMBER) if n}
    assert all(is_valid_my_number(n) for n in numbers)
    growing = inbox / "still_scanning.pdf"
    stop_writing = threading.Event()
    writer = threading.Thread(target=_keep_writing, args=(growing, stop_writing), daemon=True)

    collected = _Collect()
    watched = [logging.getLogger(), logging.getLogger("prefect"), logging.getLogger("taxintake"),
               logging.getLogger("taxintake.robots")]
    previous_levels = [(logger, logger.level) for logger in watched]
    for logger in watched:
        logger.addHandler(collected)
        logger.setLevel(logging.DEBUG)
    sim_settings = SimSettings()
    previous_password = os.environ.get("TAXINTAKE_LEGACY_PASSWORD")
    os.environ["TAXINTAKE_LEGACY_PASSWORD"] = sim_settings.robot_password  # as an operator configures it
    ledger_url = f"sqlite:///{home / 'ledger.sqlite3'}"
    writer.start()
    try:
        outcome = intake(inbox=str(inbox), archive_root=str(home / "archive"), ledger_url=ledger_url,
                         label="bad input", results_dir=str(home / "results"), settle_seconds=1.0)
        stop_writing.set()
        with running_sim(home / "legacy.sqlite3", sim_settings) as sim:
            entered = enter(ledger_url=ledger_url, legacy_url=sim.base_url, legacy_user=sim_settings.robot_user,
                            evidence_dir=str(home / "evidence"))
        report_flow(batch_id=outcome.batch_id, ledger_url=ledger_url, reports_dir=str(home / "reports"))
    finally:
        stop_writing.set()
        writer.join()
        for logger, level in previous_levels:
            logger.removeHandler(collected)
            logger.setLevel(level)
        if previous_password is None:
            os.environ.pop("TAXINTAKE_LEGACY_PASSWORD", None)
        else:
            os.environ["TAXINTAKE_LEGACY_PASSWORD"] = previous_password
    places = {"log lines": "\n".join(collected.lines), **_prefect_records(), **_ledger_messages(ledger_url),
              **_texts_of_files(home, skip={home / "archive", home / "inbox"})}
    return Batch(home, ledger_url, items, outcome, entered, numbers, sim_settings.robot_password, places)


def _forms_by_file(ledger_url: str) -> dict[str, list[tuple[int, str | None, str, str | None]]]:
    from sqlalchemy import create_engine, text

    with create_engine(ledger_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT s.original_name, f.page, f.form_id, f.state, f.state_reason FROM forms f "
            "JOIN scan_files s ON s.id = f.scan_file_id ORDER BY s.id, f.page")).all()
    found: dict[str, list] = {}
    for name, page, form_id, state, reason in rows:
        found.setdefault(name, []).append((page, form_id, state, reason))
    return found


def _audit_after(ledger_url: str, action: str) -> list[dict]:
    from sqlalchemy import create_engine, text

    with create_engine(ledger_url).connect() as connection:
        rows = connection.execute(text("SELECT after FROM audit_log WHERE action = :a ORDER BY id"), {"a": action})
        return [json.loads(after) for after in rows.scalars()]


def test_every_kind_ends_read_quarantined_refused_waiting_or_recognised_twice(batch: Batch) -> None:
    inbox, archive = batch.home / "inbox", batch.home / "archive"
    forms = _forms_by_file(batch.ledger_url)
    refused = {entry["name"]: entry for entry in _audit_after(batch.ledger_url, "inbox_refused")}
    duplicates = {entry["name"]: entry for entry in _audit_after(batch.ledger_url, "inbox_duplicate")}
    japanese_first = re.compile(r"^[^/]*[\u3040-\u30ff\u4e00-\u9fff][^/]*/ [A-Za-z]")
    for item in batch.items:
        name = display_name(item.name)
        where = f"{item.kind} ({item.name})"
        if item.expect == "refused":
            assert item.reason in refused[name]["reason"], where
            assert not os.path.lexists(inbox / item.name), where
            assert os.path.lexists(archive / refused[name]["kept_as"]), f"{where}: the entry itself is kept"
            continue
        if item.expect == "waiting":
            assert (inbox / item.name).exists() and name not in forms, where
            continue
        if item.expect == "duplicate":
            assert name in duplicates and name not in forms and not (inbox / item.name).exists(), where
            assert duplicates[name]["same_as"] in forms, where
            continue
        pages = forms.get(name)
        assert pages is not None and len(pages) == item.pages, f"{where}: {pages and len(pages)} pages recorded"
        assert not (inbox / item.name).exists(), f"{where}: left the inbox once archived and recorded"
        for page, form_id, state, reason in pages:
            if state == "QUARANTINED":
                assert reason and japanese_first.search(reason), f"{where} p{page}: {reason!r}"
        quarantined_reasons = [reason for _, _, state, reason in pages if state == "QUARANTINED"]
        if item.expect == "quarantined":
            assert any(item.reason in reason for reason in quarantined_reasons), f"{where}: {pages}"
        elif item.expect == "read":
            for page, form_id, state, reason in pages:
                # Variants of one scan carry the same values: after the first, each is a second submission.
                assert form_id and (state != "QUARANTINED" or "同じ様式・同じ内容" in reason), f"{where}: {pages}"
        else:
            assert item.expect == "read_or_quarantined"
            assert all(form_id or state == "QUARANTINED" for _, form_id, state, _ in pages), f"{where}: {pages}"
    assert (inbox / "still_scanning.pdf").exists(), "a file still being written stays for the next run"
    assert batch.outcome.files_waiting == 1 and batch.outcome.files_duplicate == 1
    assert batch.outcome.files_refused == sum(item.expect == "refused" for item in batch.items)
    left = sorted(p.name for p in inbox.iterdir())
    assert left == sorted([".scan.pdf.part", "still_scanning.pdf"]), left
    # Not one file more or less than was dropped: every other entry is a recorded file, a refusal or a copy.
    recorded = set(forms)
    dropped = {display_name(item.name) for item in batch.items if item.expect not in ("waiting",)}
    dropped |= {"scan_ready_0.png", "scan_ready_1.png", next(name for name in recorded if name.endswith(" 高橋.jpg"))}
    assert recorded | set(refused) | set(duplicates) == dropped
    from sqlalchemy import create_engine, text

    with create_engine(batch.ledger_url).connect() as connection:
        states = dict(connection.execute(text("SELECT state, count(*) FROM intake_files GROUP BY state")).all())
    assert "READING" not in states and "QUEUED" not in states, states


def test_every_result_name_is_short_and_plain(batch: Batch) -> None:
    names = [path.name for path in (batch.home / "results").iterdir()]
    assert len(names) > 300
    for name in names:
        assert len(name.encode()) <= 200 and not set(name) & set('\n\t\u202e<>:"|?*\\'), repr(name)
        assert name.split(".")[0].split("_")[0].upper() not in {"CON", "NUL", "COM1"}, name
    assert not [n for n in names if "5432" in n or "５４３２" in n], "a grouped 個人番号 kept in a result name"


def test_every_original_is_kept_in_the_archive_as_it_came(batch: Batch) -> None:
    import hashlib

    from sqlalchemy import create_engine, text

    with create_engine(batch.ledger_url).connect() as connection:
        rows = connection.execute(text("SELECT archived_path, sha256 FROM scan_files")).all()
    assert len(rows) >= 30
    for archived_path, sha256 in rows:
        data = (batch.home / "archive" / archived_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256, archived_path


def test_the_audit_trail_of_the_batch_verifies(batch: Batch) -> None:
    from ledger.audit import forms_with_unaudited_transitions, verify_audit
    from ledger.db import make_engine, session_scope

    with session_scope(make_engine(batch.ledger_url), write=False) as session:
        assert verify_audit(session) == []
        assert forms_with_unaudited_transitions(session) == []


def test_no_personal_number_in_clear_anywhere_we_write(batch: Batch) -> None:
    places = batch.places
    assert batch.outcome.pages_recorded > 300
    assert batch.entered.entered >= 1, "the robot must have had a screen with a 個人番号 on it to photograph"
    hits = {where: personal_numbers_in(text) for where, text in places.items()}
    hits = {where: found for where, found in hits.items() if found}
    assert hits == {}, f"個人番号 in clear: {hits}"
    for number in batch.numbers:
        assert not any(number in text for text in places.values()), number


def test_the_legacy_password_is_nowhere_we_write(batch: Batch) -> None:
    leaked = [where for where, text in batch.places.items() if batch.password in text]
    assert leaked == [], f"the legacy password appears in {leaked}"


def test_the_search_looked_where_it_says(batch: Batch) -> None:
    """Each kind of place holds text, and the numbers it must not find there were there to be found (read into the
    ledger, where values belong)."""
    places = batch.places
    assert len(places) > 40, sorted(places)
    for where in ("log lines", "prefect logs", "prefect artifacts", "prefect parameters", "ledger audit_log.after",
                  "ledger forms.state_reason"):
        assert places[where].strip(), where
    screenshots = [where for where in places if where.startswith("evidence/") and where.endswith(".png")]
    assert screenshots and all(len(places[where]) > 40 for where in screenshots), {w: places[w] for w in screenshots}
    assert any(where.startswith("results/") and "********" in text for where, text in places.items())
    assert any(where.startswith("name:results/xxxxxxxx9018") for where in places), "a 個人番号 file name is masked"
    from sqlalchemy import create_engine, text

    from ledger.values import reveal_value

    with create_engine(batch.ledger_url).connect() as connection:
        stored = list(connection.execute(text("SELECT value FROM field_values")).scalars())
    # The ledger keeps 個人番号 sealed at rest (ledger.crypto): opened, the numbers are there.
    values = " ".join(str(reveal_value(v)) for v in stored)
    assert any(number in values for number in batch.numbers)
