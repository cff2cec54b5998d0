"""One robot's browser session: launched once, logged in once, re-logged in when the system drops it, and each
step tried a bounded number of times with back-off."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from robots.browser import dialog_policy, launch_chromium
from robots.errors import LastingFailure, LoginRefused, SessionLost, SystemClosed, TransientError
from robots.legacy_screens import LegacyScreens
from robots.retry import DEFAULT_RETRY, RetryPolicy
from robots.screen_map import ScreenMap

log = logging.getLogger("taxintake.robots")

T = TypeVar("T")

class RobotSession:
    def __init__(self, playwright: Playwright, screen_map: ScreenMap, base_url: str,
                 credentials: tuple[str, str], robot_id: str, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        self._retry = retry
        self._playwright = playwright
        self._screen_map = screen_map
        self._base_url = base_url.rstrip("/")
        self._user, self._password = credentials
        self.robot_id = robot_id
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self.page: Page | None = None
        self._screens: LegacyScreens | None = None
        self._logged_in = False
        self._refused: LoginRefused | None = None
        self.dialogs_seen: list[str] = []
        self.closed: str | None = None  # the system's closed message, once seen: no more tries this run
        self.key_log: list[dict[str, str]] | None = None  # where the current form's typed values are noted

    @property
    def user(self) -> str:
        return self._user

    def _note_key(self, key: dict[str, str]) -> None:
        if self.key_log is not None:
            self.key_log.append(key)

    @property
    def secrets(self) -> list[str]:
        return [self._password]

    def _open_page(self) -> None:
        if self._browser is None or not self._browser.is_connected():
            self._browser = launch_chromium(self._playwright)
        if self._context is not None:
            try:
                self._context.close()
            except PlaywrightError:
                pass
        self._context = self._browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
        self._context.set_default_timeout(self._screen_map.timeouts.action_ms)
        self._context.set_default_navigation_timeout(self._screen_map.timeouts.navigation_ms)
        self.page = self._context.new_page()
        self.page.on("dialog", dialog_policy(self._screen_map.accept_dialogs, self.dialogs_seen))
        self._screens = LegacyScreens(self.page, self._screen_map, self._base_url, self._retry,
                                      on_key=self._note_key)
        self._logged_in = False

    def _ready(self) -> LegacyScreens:
        if self._refused is not None:
            raise self._refused
        if self.page is None or self.page.is_closed():
            self._open_page()
        assert self._screens is not None
        if not self._logged_in:
            try:
                self._screens.login(self._user, self._password)
            except LoginRefused as refused:
                self._refused = refused  # the same account would be refused for every form after this one
                raise
            self._logged_in = True
        if not self._screens.menu_ready():
            self._screens.return_home()
        return self._screens

    def attempt(self, phase: str, step: Callable[[LegacyScreens], T]) -> T:
        """Run one step; on a transient failure try again from the menu (mending the menu layout, or logging in
        again, if need be), up to the policy's number of tries. Lasting errors (refused login, refused values)
        pass straight through."""
        reason = ""
        tries = self._retry.tries
        for attempt in range(1, tries + 1):
            try:
                return step(self._ready())
            except SystemClosed as closed:
                self.closed = str(closed)
                raise
            except SessionLost as error:
                self._logged_in = False
                reason = str(error)
            except TransientError as error:
                reason = str(error)
            except PlaywrightTimeoutError:
                reason = "応答待ちの時間切れ"
            except PlaywrightError as error:
                reason = f"ブラウザ操作エラー: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
                if self.page is not None and self.page.is_closed():
                    self.page = None
            log.warning("%s: %s: %s (try %d of %d)", self.robot_id, phase, reason, attempt, tries)
            if attempt < tries:
                time.sleep(self._retry.pause_before(attempt + 1))
        raise LastingFailure(phase, reason, tries)

    def close(self) -> None:
        for closable in (self._context, self._browser):
            if closable is not None:
                try:
                    closable.close()
                except PlaywrightError:
                    pass
        self._context = self._browser = None
        self.page = None
