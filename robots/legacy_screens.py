"""Driving the legacy screens through one browser page, by the screen map: log in, search, enter, read back.

Each method does one screen action and says how it ended; deciding what to try again lives in robot_session.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse

from playwright.sync_api import Frame, Page, Response

from robots.errors import LoginRefused, ScreenRejected, ServerBusy, SessionLost, SystemClosed, TransientError
from robots.legacy_values import PreparedField, PreparedForm
from robots.masking import mask
from robots.retry import DEFAULT_RETRY, RetryPolicy
from robots.screen_map import FormScreens, InputStep, Lookup, ScreenMap

log = logging.getLogger("taxintake.robots")


@dataclass(frozen=True)
class SearchHit:
    receipt_no: str
    columns: dict[str, str]  # field -> what the result row shows


@dataclass(frozen=True)
class SubmitResult:
    kind: Literal["receipt", "duplicate"]
    receipt_no: str | None = None


@dataclass
class LegacyScreens:
    page: Page
    screen_map: ScreenMap
    base_url: str
    retry: RetryPolicy = field(default=DEFAULT_RETRY)
    on_key: Callable[[dict[str, str]], None] | None = None  # told of every value typed, sensitive ones masked

    # ---- the page and its frames ----

    @property
    def _navigation_ms(self) -> int:
        return self.screen_map.timeouts.navigation_ms

    def _frame(self, name: str) -> Frame:
        frame = self.page.frame(name=name)
        if frame is None:
            if self._shows(self.page.main_frame, self.screen_map.login.form):
                raise SessionLost("ログイン画面に戻されました")
            raise TransientError(f"フレーム {name} がありません")
        return frame

    @staticmethod
    def _shows(frame: Frame, selector: str) -> bool:
        return frame.locator(selector).count() > 0

    def _check_closed(self, *frames: Frame) -> None:
        marker = self.screen_map.errors.maintenance
        for frame in frames:
            if self._shows(frame, marker):
                raise SystemClosed(" ".join(self._texts(frame, marker)) or "保守時間帯")

    def _check(self, frame: Frame, response: Response | None) -> None:
        """Raise if the screen that came is not a working one: closed, a 5xx, the login page, a system error."""
        self._check_closed(frame, self.page.main_frame)
        if response is not None and response.status >= 500:
            raise ServerBusy(f"HTTP {response.status}")
        login_form = self.screen_map.login.form
        if self._shows(frame, login_form) or self._shows(self.page.main_frame, login_form):
            raise SessionLost("ログイン画面に戻されました")
        errors = self.screen_map.errors
        if self._shows(frame, errors.screen_flow):
            raise TransientError("画面遷移エラー")
        if self._shows(frame, errors.transient):
            raise TransientError(" ".join(frame.locator(errors.transient).all_inner_texts()).strip() or "一時的なエラー")

    def _navigate(self, frame: Frame, action: Callable[[], None]) -> None:
        with frame.expect_navigation(wait_until="domcontentloaded", timeout=self._navigation_ms) as navigation:
            action()
        self._check(frame, navigation.value)

    def _read_only(self, load: Callable[[], None]) -> None:
        """A navigation that only reads (a menu link, a reload, the login page): asked for again at once on a
        5xx, since nothing can have been stored. Posts are never repeated here."""
        for attempt in range(1, self.retry.tries + 1):
            try:
                load()
                return
            except ServerBusy:
                if attempt == self.retry.tries:
                    raise
                log.info("server busy, asking again (%d of %d)", attempt + 1, self.retry.tries)
                time.sleep(self.retry.pause_before(attempt + 1))

    def _texts(self, frame: Frame, selector: str) -> list[str]:
        return [text.strip() for text in frame.locator(selector).all_inner_texts() if text.strip()]

    # ---- log in, and back to the menu ----

    def login(self, user: str, password: str) -> None:
        login = self.screen_map.login

        def load_login_page() -> None:
            response = self.page.goto(self.base_url + login.path, wait_until="domcontentloaded",
                                      timeout=self._navigation_ms)
            self._check_closed(self.page.main_frame)
            if response is not None and response.status >= 500:
                raise ServerBusy(f"HTTP {response.status}")

        self._read_only(load_login_page)
        main = self.page.main_frame
        if not self._shows(main, login.form):
            raise TransientError("ログイン画面が表示されません")
        main.locator(login.user).fill(user)
        main.locator(login.password).fill(password)
        with self.page.expect_navigation(wait_until="load", timeout=self._navigation_ms) as navigation:
            main.locator(login.submit).click()
        if urlparse(self.page.url).path == login.home_path:
            # Logged in, even if the menu layout itself came back broken: that is mended by going home.
            log.info("logged in to %s as %s", self.screen_map.system, user)
            return
        response = navigation.value
        self._check_closed(main)
        if response is not None and response.status >= 500:
            raise ServerBusy(f"HTTP {response.status}")
        if self._shows(main, login.form):
            messages = self._texts(main, login.failed)
            if messages:  # never guess again: a few wrong passwords lock the account on real systems
                raise LoginRefused(" ".join(messages))
        raise TransientError("ログインできませんでした")

    def menu_ready(self) -> bool:
        """Whether the menu frame stands as it should (looked at, nothing requested)."""
        menu = self.page.frame(name=self.screen_map.frames.menu)
        return (menu is not None and self._shows(menu, self.screen_map.menu.ready)
                and self.page.frame(name=self.screen_map.frames.work) is not None)

    def return_home(self) -> None:
        """Reload the menu layout after a broken step, so that the next try starts from a known screen."""
        def reload_home() -> None:
            response = self.page.goto(self.base_url + self.screen_map.login.home_path, wait_until="load",
                                      timeout=self._navigation_ms)
            self._check(self.page.main_frame, response)
            menu = self._frame(self.screen_map.frames.menu)
            self._check(menu, None)
            if not self.menu_ready():
                raise ServerBusy("メニューが表示されません")  # a frame of the layout came back 5xx

        self._read_only(reload_home)

    def _open_from_menu(self, item: str, ready: str) -> Frame:
        menu = self._frame(self.screen_map.frames.menu)
        work = self._frame(self.screen_map.frames.work)
        self._read_only(lambda: self._navigate(work, lambda: menu.locator(item).click()))
        if not self._shows(work, ready):
            raise TransientError("業務画面が表示されません")
        return work

    # ---- typing values ----

    def _type(self, frame: Frame, steps: list[InputStep], prepared: PreparedField) -> None:
        for step in steps:
            selector = prepared.render(step.selector)
            locator = frame.locator(selector)
            value = prepared.render(step.value)
            if step.control == "fill":
                locator.fill(value)
            elif step.control == "select":
                locator.select_option(value=value)
            else:
                locator.check()
            if self.on_key is not None:
                self.on_key({"field": prepared.name, "control": step.control, "selector": selector,
                             "value": mask(value) if prepared.spec.sensitive else value})
        shown = "(個人番号等)" if prepared.spec.sensitive else mask(prepared.parts and prepared.parts["value"])
        log.debug("input %s = %s", prepared.name, shown)

    # ---- registers (宛名, 法人) ----

    def lookup(self, lookup: Lookup, prepared: PreparedForm) -> list[dict[str, str]]:
        """Each hit of a register search as {captured or confirmed name: the cell's text}."""
        work = self._open_from_menu(lookup.menu, lookup.ready)
        for name, steps in lookup.inputs.items():
            self._type(work, steps, prepared.fields[name])
        self._navigate(work, lambda: work.locator(lookup.submit).click())
        messages = self._texts(work, lookup.errors)
        if messages:
            raise ScreenRejected(messages)
        if self._shows(work, lookup.no_hits):
            return []
        rows = work.locator(lookup.rows)
        if rows.count() == 0:
            raise TransientError(f"{lookup.label}検索の結果が表示されません")
        cells = {**lookup.capture, **lookup.confirm}
        return [{name: rows.nth(index).locator(cell).inner_text().strip() for name, cell in cells.items()}
                for index in range(rows.count())]

    # ---- 照会 ----

    def _inquiry(self, form: FormScreens) -> Frame:
        work = self._frame(self.screen_map.frames.work)
        if self._shows(work, form.inquiry.ready) and work.url.endswith(urlparse(self._menu_href(form.inquiry.menu)).path):
            return work  # a result page carries fresh search forms: no need to go through the menu
        return self._open_from_menu(form.inquiry.menu, form.inquiry.ready)

    def _menu_href(self, item: str) -> str:
        menu = self._frame(self.screen_map.frames.menu)
        return menu.locator(item).get_attribute("href") or ""

    def search_person(self, form: FormScreens, prepared: PreparedForm) -> list[SearchHit]:
        inquiry = form.inquiry
        work = self._inquiry(form)
        for name in inquiry.by_person.fields:
            self._type(work, inquiry.by_person.inputs[name], prepared.fields[name])
        self._navigate(work, lambda: work.locator(inquiry.by_person.submit).click())
        messages = self._texts(work, inquiry.errors)
        if messages:
            raise ScreenRejected(messages)
        if self._shows(work, inquiry.no_hits):
            return []
        hits = []
        rows = work.locator(inquiry.result_rows)
        for index in range(rows.count()):
            row = rows.nth(index)
            receipt_no = row.locator(inquiry.result_receipt).inner_text().strip()
            columns = {name: row.locator(cell).inner_text().strip() for name, cell in inquiry.result_columns.items()}
            hits.append(SearchHit(receipt_no, columns))
        return hits

    def read_receipt(self, form: FormScreens, receipt_no: str) -> dict[str, str] | None:
        """What the inquiry shows for each field of one 届出, or None when the number is unknown."""
        inquiry = form.inquiry
        work = self._inquiry(form)
        work.locator(inquiry.by_receipt.input).fill(receipt_no)
        self._navigate(work, lambda: work.locator(inquiry.by_receipt.submit).click())
        if self._shows(work, inquiry.no_hits):
            return None
        if not self._shows(work, inquiry.detail):
            messages = self._texts(work, inquiry.errors)
            if messages:
                raise ScreenRejected(messages)
            raise TransientError("照会結果が表示されません")
        shown: dict[str, str] = {}
        for name, spec in form.fields.items():
            if spec.readback is None:
                continue
            cell = work.locator(spec.readback.selector)
            if cell.count() == 1:
                shown[name] = cell.inner_text()
        return shown

    # ---- 入力 ----

    def submit_entry(self, form: FormScreens, prepared: PreparedForm, on_submit: Callable[[], None]) -> SubmitResult:
        entry = form.entry
        work = self._open_from_menu(entry.menu, entry.ready)
        for prepared_field in prepared.fields.values():
            if prepared_field.parts is not None:
                self._type(work, prepared_field.spec.inputs, prepared_field)
        on_submit()
        self._navigate(work, lambda: work.locator(entry.submit).click())
        if self._shows(work, entry.completed):
            receipt_no = work.locator(entry.receipt).inner_text().strip()
            if not re.fullmatch(entry.receipt_pattern, receipt_no):
                raise ScreenRejected(["登録完了画面の受付番号を読み取れません"])
            return SubmitResult("receipt", receipt_no)
        if self._shows(work, entry.duplicate_warning):
            return SubmitResult("duplicate")
        messages = self._texts(work, entry.errors)
        if messages:
            raise ScreenRejected(messages)
        raise TransientError("登録後の画面を判別できません")
