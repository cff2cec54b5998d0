"""Take the README's screenshots of the Prefect UI: `taxintake serve` in a scratch home, one watch run over a
generated scan, then the deployments page and the run's page in Debian's chromium (Playwright).

    .venv/bin/python docs/screenshot_prefect_ui.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from taxintake.prefect_server import free_port  # noqa: E402


def _wait(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    from samples.generate import generate_page, write_page

    home = Path(tempfile.mkdtemp(prefix="taxintake-ui-"))
    port = free_port()
    env = {**os.environ, "TAXINTAKE_HOME": str(home), "PREFECT_HOME": str(home / "prefect")}
    serve = subprocess.Popen([sys.executable, "-m", "taxintake.cli", "serve", "--port", str(port)], cwd=REPO,
                             env=env, stdout=(home / "serve.log").open("wb"), stderr=subprocess.STDOUT)
    ui = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{ui}/api/health")
        time.sleep(15)  # the deployments are registered once serve has started its runner
        (home / "inbox").mkdir(parents=True, exist_ok=True)
        scan = write_page(generate_page("ido_todoke", style="printed", profile="office200", seed=4242), home, "scan")
        shutil.move(scan, home / "inbox" / scan.name)
        subprocess.run([sys.executable, "-m", "prefect", "deployment", "run", "watch/taxintake"], check=True,
                       env={**env, "PREFECT_API_URL": f"{ui}/api"}, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while any((home / "inbox").iterdir()) and time.monotonic() < deadline:
            time.sleep(2)
        time.sleep(20)  # the run reads its page and records it

        from playwright.sync_api import sync_playwright

        from robots.browser import launch_chromium

        out = REPO / "docs"
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{ui}/deployments", wait_until="networkidle")
            page.wait_for_timeout(3000)
            page.screenshot(path=str(out / "prefect-ui-deployments.png"))
            page.goto(f"{ui}/runs", wait_until="networkidle")
            page.wait_for_timeout(3000)
            page.screenshot(path=str(out / "prefect-ui-runs.png"))
            browser.close()
        print(f"screenshots in {out}")
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
