"""`make demo`: the whole path on the committed samples, with legacy_sim started and stopped here.

scans → intake flow (archive, read, ledger) → enter flow (robot into legacy_sim, read back) → batch summary.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_HOME = REPO / "var" / "demo"
SAMPLE_SCANS = REPO / "samples" / "scans"


def _prefect_environment(home: Path) -> None:
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _demo_keys(home: Path) -> Path:
    """The demo's own 個人番号 and audit keys, made now and written to <home>/demo-keys.env (0600): a real city sets
    its keys in the environment or Prefect Secret blocks (taxintake.keys), never in a file beside the ledger."""
    from taxintake.keys import AUDIT_KEY_ENV, MYNUMBER_KEY_ENV, new_audit_key, new_mynumber_key

    values = {MYNUMBER_KEY_ENV: os.environ.get(MYNUMBER_KEY_ENV) or new_mynumber_key("demo1"),
              AUDIT_KEY_ENV: os.environ.get(AUDIT_KEY_ENV) or new_audit_key()}
    os.environ.update(values)
    keys_file = home / "demo-keys.env"
    keys_file.touch(mode=0o600)
    keys_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
    print(f"== デモ用の鍵を作成しました（本番では使わないこと）/ made demo keys (never for real use): {keys_file}")
    return keys_file


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"legacy_sim exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("legacy_sim did not start within 30 s")


def main() -> int:
    started = time.perf_counter()
    if DEMO_HOME.exists():
        shutil.rmtree(DEMO_HOME)  # a demo starts from nothing every time
    DEMO_HOME.mkdir(parents=True)
    _prefect_environment(DEMO_HOME)
    os.environ["TAXINTAKE_HOME"] = str(DEMO_HOME)
    keys_file = _demo_keys(DEMO_HOME)

    from taxintake.config import load_settings

    settings = load_settings(DEMO_HOME)
    settings.inbox.mkdir(parents=True)
    scans = sorted(p for p in SAMPLE_SCANS.iterdir() if not p.name.endswith(".truth.json"))
    for scan in scans:
        shutil.copy2(scan, settings.inbox / scan.name)
    print(f"== taxintake デモ / demo: {len(scans)} 件のスキャンを受付箱へ / {len(scans)} scans into {settings.inbox}")

    from legacy_sim.settings import SimSettings

    # The stand-in's own development account; a real system's password comes from the environment or a Prefect
    # Secret block (taxintake.credentials), never as a flow parameter.
    os.environ.setdefault("TAXINTAKE_LEGACY_PASSWORD", SimSettings().robot_password)
    port = _free_port()
    legacy_db = DEMO_HOME / "legacy_sim.sqlite3"
    legacy_url = f"http://127.0.0.1:{port}"
    legacy = subprocess.Popen([sys.executable, "-m", "taxintake.cli", "legacy-sim", "--port", str(port),
                               "--db", str(legacy_db)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, legacy)
        print(f"== legacy_sim（基幹税務システムの代役）起動 / started at {legacy_url}")
        from flows.enter import enter
        from flows.intake import intake

        print("== 読取（intake フロー）/ reading (Prefect flow 'intake') ...")
        intake_outcome = intake(inbox=str(settings.inbox), archive_root=str(settings.archive),
                                ledger_url=settings.ledger_url, label="demo", results_dir=str(settings.results))
        print("== 入力（enter フロー, Playwright + chromium）/ entering (Prefect flow 'enter') ...")
        enter_outcome = enter(ledger_url=settings.ledger_url, legacy_url=legacy_url,
                              legacy_user=settings.legacy_user,
                              evidence_dir=str(settings.evidence))
    finally:
        legacy.terminate()
        legacy.wait(timeout=10)

    from legacy_sim.db import connect
    from legacy_sim.records import count_records
    from taxintake.commands.summary import print_summary

    with connect(legacy_db) as conn:
        legacy_records = count_records(conn)

    print()
    print_summary(settings.ledger_url, intake_outcome.batch_id)
    print(f"  legacy_sim の登録件数 / records in legacy_sim: {legacy_records}")
    print()
    print("確認が必要な項目は NEEDS_REVIEW のまま残っています。確認画面で確定してください：")
    print("Flagged fields stay NEEDS_REVIEW until a person resolves them on the review page:")
    print(f"  set -a; . {keys_file}; set +a   # デモ用の鍵 / the demo's keys")
    print(f"  TAXINTAKE_HOME={settings.home} taxintake user add sato --role supervisor")
    print(f"  TAXINTAKE_HOME={settings.home} taxintake review --port 8780   # http://127.0.0.1:8780/")
    print(f"  台帳 / ledger:            {settings.ledger_url}")
    print(f"  読取結果 / read results:  {settings.results}")
    print(f"  legacy_sim DB:            {legacy_db}")
    print(f"  所要時間 / wall time:      {time.perf_counter() - started:.0f} s "
          f"(entered {enter_outcome.entered}, failed {enter_outcome.failed})")

    from flows.report import report_flow

    print()
    print("== 報告（report フロー）/ report (Prefect flow 'report') ...")
    report = report_flow(intake_outcome.batch_id, ledger_url=settings.ledger_url, reports_dir=str(settings.reports))
    print("\n".join(report.headline))
    print(f"  報告ファイル / report files: {report.xlsx}, {report.csv}, {report.chart}, {report.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
