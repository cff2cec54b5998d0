"""Debian's chromium under Playwright (never a downloaded browser), and the dialog policy of the robots."""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Dialog, Playwright

log = logging.getLogger("taxintake.robots")

FALLBACK_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_executable() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if FALLBACK_CHROMIUM.exists():
        return str(FALLBACK_CHROMIUM)
    raise FileNotFoundError("chromium not found: install the Debian package `chromium` (make setup)")


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)


def dialog_policy(accepted_texts: list[str], seen: list[str]) -> Callable[[Dialog], None]:
    """Answer OK to the confirms the screen map lists (without a handler Playwright cancels every dialog) and
    cancel any other, e.g. the one that would force a duplicate in; remember each dialog's text."""
    def handle(dialog: Dialog) -> None:
        seen.append(dialog.message)
        if dialog.type == "alert" or dialog.message.strip() in accepted_texts:
            log.debug("dialog %s %r: OK", dialog.type, dialog.message)
            dialog.accept()
        else:
            log.info("dialog %s %r: cancelled", dialog.type, dialog.message)
            dialog.dismiss()
    return handle
