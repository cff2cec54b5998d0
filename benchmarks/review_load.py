"""How fast the review page answers with a full ledger: the queue and the form view, p50/p95 in milliseconds.

A fresh SQLite ledger gets --fields flagged fields (five per form of the 給与支払報告書, 112 fields each, so
2,000 forms and 224,000 field rows for the default 10,000), recorded through the ledger's own
`record_read_result` from the committed sample's ground truth with values varied per form. The review page runs
as `taxintake review` in its own process; one signed-in client asks for queue pages and form pages in random
order, one request at a time, and the time to the last byte of each answer is measured. Page images are not
asked for (they are rendered once per page and cached; the scans here are not archived).

    python benchmarks/review_load.py [--fields 10000] [--requests 300] [--seed 7] [--json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SAMPLE_TRUTH = REPO / "samples" / "scans" / "scan_0010.truth.json"
FLAGS_PER_FORM = 5
FORMS_PER_BATCH = 100
FLAGGED = [("shimei", "low_confidence"), ("kana", "low_confidence"), ("gensen_choshu_zeigaku", "low_confidence"),
           ("haigusha_gokei_shotoku", "low_confidence"), ("shiharaisha_jusho", "known_misread")]
TARGET_P95_MS = 300.0
PASSWORD = "benchmark-password-1"


def build_ledger(url: str, flagged_fields: int, seed: int) -> int:
    """Record forms until `flagged_fields` fields wait for review; returns the number of forms."""
    from ledger import repo, review_repo
    from ledger.db import init_db, make_engine, session_scope
    from ocr.result import FieldReading, ReadResult
    from ocr.templates import load_template
    from review.auth import hash_password

    truth = json.loads(SAMPLE_TRUTH.read_text(encoding="utf-8"))
    template = load_template(truth["form_id"])
    flagged = dict(FLAGGED[:FLAGS_PER_FORM])
    engine = make_engine(url)
    init_db(engine)
    rng = random.Random(seed)
    forms = -(-flagged_fields // FLAGS_PER_FORM)
    with session_scope(engine) as session:
        review_repo.create_user(session, "bench", "ベンチマーク", "supervisor", hash_password(PASSWORD))
    for start in range(0, forms, FORMS_PER_BATCH):
        with session_scope(engine) as session:
            batch = repo.create_batch(session, label=f"load {start // FORMS_PER_BATCH + 1}", source="benchmark")
            for number in range(start, min(forms, start + FORMS_PER_BATCH)):
                fields = {}
                for spec in template.fields:
                    value = truth["fields"].get(spec.name)
                    if spec.name == "gensen_choshu_zeigaku":
                        value = str(rng.randrange(1, 900) * 100)  # different values: no form is a duplicate
                    reasons = [flagged[spec.name]] if spec.name in flagged else []
                    status = "review" if reasons else ("empty" if value is None else "accepted")
                    fields[spec.name] = FieldReading(value=value, confidence=0.5 if reasons else 0.99, status=status,
                                                     reasons=reasons)
                fields["shiharai_kingaku"].value = str(1_000_000 + number)
                result = ReadResult(source=f"load_{number:05d}.jpg", page=1, form_id=template.form_id,
                                    template_version=template.version, seconds=1.0, fields=fields)
                digest = hashlib.sha256(f"review-load-{seed}-{number}".encode()).hexdigest()
                scan_file, _ = repo.register_scan_file(session, batch, result.source, f"{digest[:2]}/{digest}.jpg",
                                                       digest, 1)
                repo.record_read_result(session, batch, scan_file, result)
    return forms


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(home: Path, url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "TAXINTAKE_HOME": str(home), "TAXINTAKE_LEDGER_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "taxintake.cli", "review", "--port", str(port)], cwd=REPO,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the review page did not start: " + process.stderr.read().decode()[-2000:])
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the review page did not start within 120 s")


def _sign_in(client, base: str) -> dict[str, str]:
    """The session cookie, sent by hand: the cookie is Secure, which http.cookiejar keeps from plain http."""
    login = client.get(f"{base}/login")
    login_cookie = login.headers["set-cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    answer = client.post(f"{base}/login", data={"name": "bench", "password": PASSWORD, "next": "/queue",
                                                "csrf_token": token}, headers={"Cookie": login_cookie})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    session_cookie = next(value.split(";", 1)[0] for key, value in answer.headers.multi_items()
                          if key == "set-cookie" and value.startswith("taxintake_review="))
    return {"Cookie": session_cookie}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(share * (len(ordered) - 1)))))
    return ordered[index]


def measure(base: str, forms: int, requests: int, seed: int, page_size: int = 50) -> dict[str, dict[str, float]]:
    import httpx

    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"queue": [], "form": []}
    with httpx.Client(timeout=30.0, follow_redirects=False) as client:
        headers = _sign_in(client, base)
        pages = max(1, -(-forms // page_size))
        for path in ("/queue", "/forms/1"):  # warm-up: first template load, first query plans
            client.get(base + path, headers=headers)
        kinds = ["queue", "form"] * requests
        rng.shuffle(kinds)
        for kind in kinds:
            # Most people look at the first page of the queue; some page on.
            path = (f"/queue?page={1 if rng.random() < 0.5 else rng.randint(1, pages)}" if kind == "queue"
                    else f"/forms/{rng.randint(1, forms)}")
            started = time.perf_counter()
            answer = client.get(base + path, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200 or ("様式" not in answer.text):
                raise RuntimeError(f"{path}: HTTP {answer.status_code}")
            timings[kind].append(elapsed)
    return {kind: {"count": len(values), "p50_ms": round(statistics.median(values), 1),
                   "p95_ms": round(_percentile(values, 0.95), 1), "max_ms": round(max(values), 1)}
            for kind, values in timings.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fields", type=int, default=10_000, help="flagged fields in the ledger (default 10000)")
    parser.add_argument("--requests", type=int, default=300, help="requests per page kind (default 300)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="review-load-") as folder:
        home = Path(folder)
        url = f"sqlite:///{home / 'ledger.sqlite3'}"
        started = time.perf_counter()
        forms = build_ledger(url, args.fields, args.seed)
        build_seconds = time.perf_counter() - started
        print(f"台帳 / ledger: {forms} forms, {forms * FLAGS_PER_FORM} flagged fields "
              f"(built in {build_seconds:.0f} s)")
        process, base = _start_server(home, url)
        try:
            results = measure(base, forms, args.requests, args.seed)
        finally:
            process.terminate()
            process.wait(timeout=10)
    passed = all(result["p95_ms"] < TARGET_P95_MS for result in results.values())
    for kind, result in results.items():
        print(f"  {kind:6s} {result['count']:4d} requests  p50 {result['p50_ms']:7.1f} ms  "
              f"p95 {result['p95_ms']:7.1f} ms  max {result['max_ms']:7.1f} ms")
    print(f"  target p95 < {TARGET_P95_MS:.0f} ms: {'met' if passed else 'NOT met'}")
    if args.json:
        print(json.dumps({"benchmark": "review_load", "forms": forms, "flagged_fields": forms * FLAGS_PER_FORM,
                          "requests_per_kind": args.requests, "pages": results, "target_p95_ms": TARGET_P95_MS,
                          "target_met": passed}))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
