"""How fast the review page answers with a full ledger: the queue, the form view and the group page, p50/p95 in ms.

A fresh SQLite ledger gets --fields flagged fields (five per form of the 給与支払報告書, 112 fields each, so
2,000 forms and 224,000 field rows for the default 10,000), recorded through the ledger's own
`record_read_result` from the committed sample's ground truth with values varied per form. The first
--image-forms forms (the oldest, so the first batch's group page is all theirs) have real archived scans: the
sample scan, each copy made distinct by one pixel, so each has its own sha256 and its own cache entry. The review
page runs as `taxintake review` in its own process, its worker rendering the waiting forms' images ahead; the
benchmark waits until those forms are rendered (and says how long that took), then one signed-in client asks in
random order for:

- queue: a queue page;
- form: the form view as a browser loads it, the page and then its page image and every crop on it (six at a time,
  as a browser does), for a form with a scan; form_html: the page alone, for any of the forms;
- group: the first batch's group page of 文字 fields (60 cards) with all its crops; group_html: the page alone.

The time to the last byte of the last answer is measured. The load average (1 min) is printed beside the figures:
speed figures taken on a busy machine say little.

    python benchmarks/review_load.py [--fields 10000] [--requests 300] [--group-requests 60] [--image-forms 32]
                                     [--seed 7] [--json]
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
from benchmarks.scratch_keys import use_scratch_keys  # noqa: E402

SAMPLE_TRUTH = REPO / "samples" / "scans" / "scan_0010.truth.json"
FLAGS_PER_FORM = 5
FORMS_PER_BATCH = 100
FLAGGED = [("shimei", "low_confidence"), ("kana", "low_confidence"), ("gensen_choshu_zeigaku", "low_confidence"),
           ("haigusha_gokei_shotoku", "low_confidence"), ("shiharaisha_jusho", "known_misread")]
TARGET_P95_MS = {"queue": 300.0, "form": 300.0, "form_html": 300.0, "group": 1000.0, "group_html": 1000.0}
IMAGE_FETCHERS = 6  # parallel image requests, as a browser makes them
IMAGE_URL = re.compile(r'src="(/forms/\d+/[^"]+\.(?:png|jpg))"')
PASSWORD = "benchmark-password-1"


def _distinct_scans(folder: Path, count: int) -> list[Path]:
    """`count` copies of the sample scan, each one pixel different (a different sha256, the same page)."""
    import cv2

    pixels = cv2.imread(str(SAMPLE_TRUTH.with_name("scan_0010.jpg")), cv2.IMREAD_COLOR)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        copy = pixels.copy()
        copy[0, number % copy.shape[1]] = (number * 7) % 256
        path = folder / f"load_{number:05d}.png"
        cv2.imwrite(str(path), copy)
        paths.append(path)
    return paths


def build_ledger(url: str, flagged_fields: int, seed: int, archive: Path | None = None, image_forms: int = 0) -> int:
    """Record forms until `flagged_fields` fields wait for review; returns the number of forms. The first
    `image_forms` get a real scan archived under `archive`."""
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
    scans = []
    if archive is not None and image_forms:
        from flows.archive import archive_scan

        scans = [archive_scan(path, archive) for path in _distinct_scans(archive.parent / "scans", image_forms)]
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
                if number < len(scans):
                    digest, relative = scans[number].sha256, scans[number].relative_path
                else:
                    digest = hashlib.sha256(f"review-load-{seed}-{number}".encode()).hexdigest()
                    relative = f"{digest[:2]}/{digest}.jpg"
                scan_file, _ = repo.register_scan_file(session, batch, result.source, relative, digest, 1)
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


def _wait_until_rendered(url: str, cache: Path, image_forms: int, timeout: float = 1800.0) -> float:
    """Seconds until the review app's worker has rendered the first `image_forms` waiting forms ahead."""
    from ledger.db import make_engine, session_scope
    from review import prerender

    engine = make_engine(url)
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with session_scope(engine, write=False) as session:
            waiting = prerender.waiting_forms(session, limit=image_forms)
        if all(prerender.is_ready(cache, form.key) for _, form in waiting):
            return time.perf_counter() - started
        time.sleep(0.5)
    raise RuntimeError(f"the worker had not rendered {image_forms} forms within {timeout:.0f} s")


def _load(client, base: str, path: str, headers: dict[str, str], pool, images: bool) -> None:
    answer = client.get(base + path, headers=headers)
    if answer.status_code != 200 or ("様式" not in answer.text and "グループ" not in answer.text):
        raise RuntimeError(f"{path}: HTTP {answer.status_code}")
    if not images:
        return
    urls = list(dict.fromkeys(IMAGE_URL.findall(answer.text)))
    if not urls:
        raise RuntimeError(f"{path}: no images on the page")
    for url, reply in zip(urls, pool.map(lambda u: client.get(base + u, headers=headers), urls)):
        if reply.status_code != 200 or not reply.content:
            raise RuntimeError(f"{url}: HTTP {reply.status_code}")


def measure(base: str, forms: int, image_forms: int, requests: int, group_requests: int, seed: int,
            page_size: int = 50) -> dict[str, dict[str, float]]:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"queue": [], "form": [], "form_html": [], "group": [], "group_html": []}
    limits = httpx.Limits(max_connections=IMAGE_FETCHERS + 1)
    with httpx.Client(timeout=60.0, follow_redirects=False, limits=limits) as client, \
            ThreadPoolExecutor(IMAGE_FETCHERS) as pool:
        headers = _sign_in(client, base)
        pages = max(1, -(-forms // page_size))
        for path in ("/queue", "/forms/1", "/group/1/text"):  # warm-up: first template load, first query plans
            _load(client, base, path, headers, pool, images=path != "/queue")
        kinds = ["queue", "form", "form_html"] * requests + ["group", "group_html"] * group_requests
        rng.shuffle(kinds)
        for kind in kinds:
            if kind == "queue":  # most people look at the first page of the queue; some page on
                path = f"/queue?page={1 if rng.random() < 0.5 else rng.randint(1, pages)}"
            elif kind == "form":
                path = f"/forms/{rng.randint(1, max(1, image_forms))}"
            elif kind == "form_html":
                path = f"/forms/{rng.randint(1, forms)}"
            else:  # the first batch's 文字 fields: 60 cards, all of forms with scans
                path = "/group/1/text"
            started = time.perf_counter()
            _load(client, base, path, headers, pool, images=kind in ("form", "group"))
            timings[kind].append((time.perf_counter() - started) * 1000)
    return {kind: {"count": len(values), "p50_ms": round(statistics.median(values), 1),
                   "p95_ms": round(_percentile(values, 0.95), 1), "max_ms": round(max(values), 1)}
            for kind, values in timings.items() if values}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fields", type=int, default=10_000, help="flagged fields in the ledger (default 10000)")
    parser.add_argument("--requests", type=int, default=300,
                        help="requests each of queue, form and form_html (default 300)")
    parser.add_argument("--group-requests", type=int, default=60, help="group page loads (default 60)")
    parser.add_argument("--image-forms", type=int, default=32,
                        help="forms with a real archived scan, rendered ahead (default 32: the group page's 60 cards)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    use_scratch_keys()

    with tempfile.TemporaryDirectory(prefix="review-load-") as folder:
        home = Path(folder)
        url = f"sqlite:///{home / 'ledger.sqlite3'}"
        started = time.perf_counter()
        forms = build_ledger(url, args.fields, args.seed, home / "archive", args.image_forms)
        build_seconds = time.perf_counter() - started
        print(f"台帳 / ledger: {forms} forms, {forms * FLAGS_PER_FORM} flagged fields, {args.image_forms} with a "
              f"scan (built in {build_seconds:.0f} s)")
        process, base = _start_server(home, url)
        try:
            render_seconds = _wait_until_rendered(url, home / "review_cache", args.image_forms)
            print(f"先読み / rendered ahead: {args.image_forms} forms in {render_seconds:.0f} s by the app's worker "
                  f"(load average {os.getloadavg()[0]:.2f})")
            load_before = os.getloadavg()
            results = measure(base, forms, args.image_forms, args.requests, args.group_requests, args.seed)
            load_after = os.getloadavg()
        finally:
            process.terminate()
            process.wait(timeout=10)
    passed = all(result["p95_ms"] < TARGET_P95_MS[kind] for kind, result in results.items())
    load = f"load average (1/5/15 min) before {'/'.join(f'{v:.2f}' for v in load_before)}, " \
           f"after {'/'.join(f'{v:.2f}' for v in load_after)} on {os.cpu_count()} CPUs"
    for kind, result in results.items():
        print(f"  {kind:9s} {result['count']:4d} loads  p50 {result['p50_ms']:7.1f} ms  "
              f"p95 {result['p95_ms']:7.1f} ms  max {result['max_ms']:7.1f} ms  "
              f"(target p95 < {TARGET_P95_MS[kind]:.0f} ms: {'met' if result['p95_ms'] < TARGET_P95_MS[kind] else 'NOT met'})")
    print(f"  {load}")
    print(f"  targets {'met' if passed else 'NOT met'}")
    if args.json:
        print(json.dumps({"benchmark": "review_load", "forms": forms, "flagged_fields": forms * FLAGS_PER_FORM,
                          "image_forms": args.image_forms, "render_ahead_seconds": round(render_seconds, 1),
                          "requests_per_kind": args.requests, "group_requests": args.group_requests,
                          "pages": results, "target_p95_ms": TARGET_P95_MS, "target_met": passed,
                          "load_average_before": load_before, "load_average_after": load_after,
                          "cpus": os.cpu_count()}))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
