"""Enter forms into the legacy system: search first, enter, read back. The API the `enter` flow calls."""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from playwright.sync_api import sync_playwright

from robots.errors import LastingFailure, LoginRefused, ScreenRejected
from robots.evidence import save_evidence
from robots.legacy_screens import LegacyScreens, SubmitResult
from robots.legacy_values import PreparedForm, mismatched_fields, prepare_form
from robots.masking import scrub
from robots.retry import DEFAULT_RETRY, RetryPolicy
from robots.robot_session import RobotSession
from robots.screen_map import FormScreens, ScreenMap, load_screen_map

log = logging.getLogger("taxintake.robots")

EntryStatus = Literal["entered", "already_entered", "failed", "needs_people"]


@dataclass
class EntryRequest:
    form_ref: str  # the ledger's id of the form; names evidence files
    form_id: str  # template id, e.g. "ido_todoke"
    values: dict[str, str | bool | None]  # normalised values keyed by template field name
    idempotency_key: str


@dataclass
class EntryOutcome:
    form_ref: str
    status: EntryStatus
    receipt_no: str | None
    reason: str | None  # names fields and screens, never a value
    readback_ok: bool
    seconds: float


@dataclass(frozen=True)
class _Existing:
    """A 届出 already in the system for the same person and the same key columns."""
    receipt_no: str
    differing_fields: list[str]


def _find_existing(screens: LegacyScreens, form: FormScreens, prepared: PreparedForm) -> _Existing | None:
    expected = prepared.expected_readbacks()
    key_columns = form.inquiry.result_columns
    candidates = [hit for hit in screens.search_person(form, prepared)
                  if not mismatched_fields({name: expected[name] for name in key_columns}, hit.columns)]
    differing: _Existing | None = None
    for hit in candidates:
        shown = screens.read_receipt(form, hit.receipt_no)
        if shown is None:
            continue
        fields = mismatched_fields(expected, shown)
        if not fields:
            return _Existing(hit.receipt_no, [])
        differing = differing or _Existing(hit.receipt_no, fields)
    return differing


class _FormRun:
    """One request through search, entry and read-back; every way it ends becomes an EntryOutcome."""

    def __init__(self, session: RobotSession, screen_map: ScreenMap, request: EntryRequest,
                 evidence_dir: Path | None) -> None:
        self.session = session
        self.screen_map = screen_map
        self.request = request
        self.evidence_dir = evidence_dir
        self.started = time.monotonic()
        self.secrets: list[str] = list(session.secrets)

    def outcome(self, status: EntryStatus, *, receipt_no: str | None = None, reason: str | None = None,
                readback_ok: bool = False) -> EntryOutcome:
        clean_reason = scrub(reason, self.secrets) if reason else None
        seconds = round(time.monotonic() - self.started, 3)
        level = logging.INFO if status in ("entered", "already_entered") else logging.WARNING
        log.log(level, "%s: form %s: %s%s%s (%.1f s)", self.session.robot_id, self.request.form_ref, status,
                f" 受付番号 {receipt_no}" if receipt_no else "", f" — {clean_reason}" if clean_reason else "", seconds)
        return EntryOutcome(self.request.form_ref, status, receipt_no, clean_reason, readback_ok, seconds)

    def evidence(self, label: str, *, with_html: bool) -> None:
        save_evidence(self.session.page, self.evidence_dir, self.request.form_ref, label, with_html=with_html,
                      secrets=self.secrets)

    def run(self) -> EntryOutcome:
        form = self.screen_map.forms.get(self.request.form_id)
        if form is None:
            return self.outcome("failed", reason=f"画面定義 {self.screen_map.system} に様式 {self.request.form_id} がありません")
        prepared = prepare_form(form, self.screen_map, self.request.values)
        self.secrets += prepared.secrets
        if prepared.problems:
            return self.outcome("needs_people", reason="; ".join(prepared.problems))
        search_keys = [*form.inquiry.by_person.fields, *form.inquiry.result_columns]
        missing = [name for name in dict.fromkeys(search_keys) if prepared.fields[name].parts is None]
        if missing:
            return self.outcome("needs_people", reason=f"重複確認の検索に必要な項目がありません: {', '.join(missing)}")
        log.info("%s: form %s (%s, key %s): entering", self.session.robot_id, self.request.form_ref,
                 self.request.form_id, self.request.idempotency_key)
        try:
            return self._search_enter_read_back(form, prepared)
        except LoginRefused as error:
            return self.outcome("failed", reason=f"ログインできません: {error}")
        except ScreenRejected as error:
            self.evidence("rejected", with_html=True)
            return self.outcome("failed", reason=f"入力エラー: {error}")
        except LastingFailure as error:
            self.evidence("failed", with_html=True)
            return self.outcome("failed", reason=str(error))
        except Exception as error:  # noqa: BLE001 - one broken form must never stop the others
            self.evidence("failed", with_html=True)
            first_line = str(error).splitlines()[0] if str(error) else ""
            return self.outcome("failed", reason=f"{type(error).__name__}: {first_line}")

    def _already_there(self, existing: _Existing, *, entered_now: bool) -> EntryOutcome:
        if existing.differing_fields:
            return self.outcome("needs_people", receipt_no=existing.receipt_no, reason=(
                f"同一人・同一異動の届出 {existing.receipt_no} が登録済みで内容が異なります: "
                f"{', '.join(existing.differing_fields)}"))
        return self.outcome("entered" if entered_now else "already_entered", receipt_no=existing.receipt_no,
                            readback_ok=True)

    def _search_enter_read_back(self, form: FormScreens, prepared: PreparedForm) -> EntryOutcome:
        existing = self.session.attempt("照会", lambda screens: _find_existing(screens, form, prepared))
        if existing is not None:
            return self._already_there(existing, entered_now=False)

        clicked = [False]

        def enter(screens: LegacyScreens) -> SubmitResult | _Existing:
            if clicked[0]:
                # The last try broke after 登録 was pressed: it may have gone in. Look before pressing again.
                found = _find_existing(screens, form, prepared)
                if found is not None:
                    return found
            return screens.submit_entry(form, prepared, on_submit=lambda: clicked.__setitem__(0, True))

        result = self.session.attempt("登録", enter)
        if isinstance(result, _Existing):
            return self._already_there(result, entered_now=True)
        if result.kind == "duplicate":
            self.evidence("duplicate", with_html=False)
            return self.outcome("needs_people", reason="既に同一の異動届が登録されています（システムの重複警告）")
        receipt_no = result.receipt_no
        assert receipt_no is not None
        self.evidence("receipt", with_html=False)

        shown = self.session.attempt("読み返し", lambda screens: screens.read_receipt(form, receipt_no))
        if shown is None:
            self.evidence("readback", with_html=True)
            return self.outcome("failed", receipt_no=receipt_no, reason=f"受付番号 {receipt_no} が照会で見つかりません")
        differing = mismatched_fields(prepared.expected_readbacks(), shown)
        if differing:
            self.evidence("readback", with_html=True)
            return self.outcome("failed", receipt_no=receipt_no,
                                reason=f"読み返しが一致しません: {', '.join(differing)}")
        return self.outcome("entered", receipt_no=receipt_no, readback_ok=True)


def _enter_all(requests: list[EntryRequest], base_url: str, credentials: tuple[str, str],
               screen_map: ScreenMap, robot_id: str, evidence_dir: Path | None,
               retry: RetryPolicy) -> list[EntryOutcome]:
    outcomes: list[EntryOutcome] = []
    with sync_playwright() as playwright:
        session = RobotSession(playwright, screen_map, base_url, credentials, robot_id, retry)
        try:
            for request in requests:
                outcomes.append(_FormRun(session, screen_map, request, evidence_dir).run())
        finally:
            session.close()
    return outcomes


def _inside_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def enter_forms(requests: list[EntryRequest], *, base_url: str, credentials: tuple[str, str],
                screen_map: Path | None = None, robot_id: str = "robot-1",
                evidence_dir: Path | None = None, retry: RetryPolicy | None = None) -> list[EntryOutcome]:
    """Enter each request with one browser and one login; one outcome per request, in order.

    `screen_map` defaults to robots/screens/legacy_sim.yaml; `retry` to 3 tries with 0.5 s and 1.5 s pauses.
    """
    if not requests:
        return []
    screens = load_screen_map(screen_map)
    args = (requests, base_url, credentials, screens, robot_id, evidence_dir, retry or DEFAULT_RETRY)
    if _inside_event_loop():
        # Playwright's sync API refuses to run on a thread with a running event loop (async callers, some
        # orchestrators): give it a thread of its own.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"robot-{robot_id}") as pool:
            return pool.submit(_enter_all, *args).result()
    return _enter_all(*args)
