"""Enter forms into the legacy system: search first, enter, read back. The API the `enter` flow calls."""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from playwright.sync_api import sync_playwright

from robots.errors import LastingFailure, LoginRefused, ScreenRejected, SystemClosed
from robots.evidence import save_evidence
from robots.legacy_screens import LegacyScreens, SubmitResult
from robots.legacy_values import PreparedForm, mismatched_fields, prepare_form
from robots.masking import scrub
from robots.retry import DEFAULT_RETRY, RetryPolicy
from robots.robot_session import RobotSession
from robots.screen_map import FormScreens, ScreenMap, load_screen_map

log = logging.getLogger("taxintake.robots")

# deferred: the system was closed (night batch); nothing was sent and the form waits for a later run.
EntryStatus = Literal["entered", "already_entered", "failed", "needs_people", "deferred"]


@dataclass
class EntryRequest:
    form_ref: str  # the ledger's id of the form; names evidence files
    form_id: str  # template id, e.g. "ido_todoke"
    values: dict[str, str | bool | None]  # normalised values keyed by template field name
    idempotency_key: str
    template_version: str | None = None  # the template version the form was read with (令和7年分)


@dataclass
class EntryOutcome:
    form_ref: str
    status: EntryStatus
    receipt_no: str | None
    reason: str | None  # names fields and screens, never a value
    readback_ok: bool
    seconds: float
    robot_user: str = ""  # the legacy account whose session did the work
    keys: list[dict[str, str]] = field(default_factory=list)  # every value typed, in order; sensitive ones masked


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


class _NeedsPeople(Exception):
    """A lookup that must not be guessed: nobody found, or several who fit."""


def _same_text(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def _look_up(screens: LegacyScreens, form: FormScreens, prepared: PreparedForm) -> None:
    """Search each register the form refers to; exactly one hit that shows our values, or people decide."""
    expected = prepared.expected_readbacks()
    for lookup in form.lookups:
        hits = screens.lookup(lookup, prepared)
        if not hits:
            raise _NeedsPeople(f"{lookup.label}が見つかりません（検索項目: {', '.join(lookup.inputs)}）")
        if len(hits) > 1:
            raise _NeedsPeople(f"{lookup.label}の候補が{len(hits)}件あります（同姓同名・同一生年月日など）: "
                               "人が確認してください")
        [hit] = hits
        differing = [name for name in lookup.confirm
                     if not _same_text(hit[name], expected.get(name) or "")]
        if differing:
            raise _NeedsPeople(f"{lookup.label}の登録内容と一致しません: {', '.join(differing)}")
        for name in lookup.capture:
            prepared.set_looked_up(name, hit[name])


class _FormRun:
    """One request through lookups, search, entry and read-back; every way it ends becomes an EntryOutcome."""

    def __init__(self, session: RobotSession, screen_map: ScreenMap, request: EntryRequest,
                 evidence_dir: Path | None) -> None:
        self.session = session
        self.screen_map = screen_map
        self.request = request
        self.evidence_dir = evidence_dir
        self.started = time.monotonic()
        self.secrets: list[str] = list(session.secrets)
        self.keys: list[dict[str, str]] = []

    def outcome(self, status: EntryStatus, *, receipt_no: str | None = None, reason: str | None = None,
                readback_ok: bool = False) -> EntryOutcome:
        clean_reason = scrub(reason, self.secrets) if reason else None
        seconds = round(time.monotonic() - self.started, 3)
        level = logging.INFO if status in ("entered", "already_entered") else logging.WARNING
        log.log(level, "%s: form %s: %s%s%s (%.1f s)", self.session.robot_id, self.request.form_ref, status,
                f" 受付番号 {receipt_no}" if receipt_no else "", f" — {clean_reason}" if clean_reason else "", seconds)
        keys = [{**key, "value": scrub(key["value"], self.secrets)} for key in self.keys]
        return EntryOutcome(self.request.form_ref, status, receipt_no, clean_reason, readback_ok, seconds,
                            robot_user=self.session.user, keys=keys)

    def evidence(self, label: str, *, with_html: bool) -> None:
        save_evidence(self.session.page, self.evidence_dir, self.request.form_ref, label, with_html=with_html,
                      secrets=self.secrets)

    def run(self) -> EntryOutcome:
        form = self.screen_map.forms.get(self.request.form_id)
        if form is None:
            return self.outcome("failed", reason=f"画面定義 {self.screen_map.system} に様式 {self.request.form_id} がありません")
        version = self.request.template_version
        if form.template_versions is not None and version not in form.template_versions:
            return self.outcome("needs_people", reason=f"画面定義 {self.screen_map.system} の様式 {self.request.form_id} "
                                                      f"は版 {version} に対応していません / the screens do not take "
                                                      f"version {version}")
        prepared = prepare_form(form, self.screen_map, self.request.values)
        self.secrets += prepared.secrets
        if prepared.problems:
            return self.outcome("needs_people", reason="; ".join(prepared.problems))
        search_keys = [*(name for lookup in form.lookups for name in lookup.inputs),
                       *form.inquiry.by_person.fields, *form.inquiry.result_columns]
        missing = [name for name in dict.fromkeys(search_keys)
                   if form.fields[name].format != "looked_up" and prepared.fields[name].parts is None]
        if missing:
            return self.outcome("needs_people", reason=f"検索に必要な項目がありません: {', '.join(missing)}")
        if self.session.closed is not None:
            return self.outcome("deferred", reason=f"システム休止中のため入力を見送りました: {self.session.closed}")
        log.info("%s: form %s (%s, key %s): entering", self.session.robot_id, self.request.form_ref,
                 self.request.form_id, self.request.idempotency_key)
        self.session.key_log = self.keys
        try:
            return self._search_enter_read_back(form, prepared)
        except _NeedsPeople as reason:
            return self.outcome("needs_people", reason=str(reason))
        except SystemClosed as error:
            return self.outcome("deferred", reason=f"システム休止中のため入力を見送りました: {error}")
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
        finally:
            self.session.key_log = None

    def _already_there(self, existing: _Existing, *, entered_now: bool) -> EntryOutcome:
        if existing.differing_fields:
            return self.outcome("needs_people", receipt_no=existing.receipt_no, reason=(
                f"同一の届出 {existing.receipt_no} が登録済みで内容が異なります: "
                f"{', '.join(existing.differing_fields)}"))
        return self.outcome("entered" if entered_now else "already_entered", receipt_no=existing.receipt_no,
                            readback_ok=True)

    def _search_enter_read_back(self, form: FormScreens, prepared: PreparedForm) -> EntryOutcome:
        if form.lookups:
            self.session.attempt("宛名・法人検索", lambda screens: _look_up(screens, form, prepared))
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
            return self.outcome("needs_people", reason="既に同一の届出が登録されています（システムの重複警告）")
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


OutcomeHandler = Callable[[EntryOutcome], None]


def _session_worker(work: queue.Queue[tuple[int, EntryRequest]], results: dict[int, EntryOutcome],
                    base_url: str, credentials: tuple[str, str], screen_map: ScreenMap, robot_id: str,
                    evidence_dir: Path | None, retry: RetryPolicy, on_outcome: OutcomeHandler | None,
                    report_lock: threading.Lock) -> None:
    """One browser and one login, taking forms off the shared queue until it is empty."""
    with sync_playwright() as playwright:
        session = RobotSession(playwright, screen_map, base_url, credentials, robot_id, retry)
        try:
            while True:
                try:
                    index, request = work.get_nowait()
                except queue.Empty:
                    return
                outcome = _FormRun(session, screen_map, request, evidence_dir).run()
                results[index] = outcome
                if on_outcome is not None:
                    with report_lock:
                        on_outcome(outcome)
        finally:
            session.close()


def enter_forms(requests: list[EntryRequest], *, base_url: str,
                credentials: tuple[str, str] | list[tuple[str, str]], screen_map: Path | None = None,
                robot_id: str = "robot-1", evidence_dir: Path | None = None, retry: RetryPolicy | None = None,
                sessions: int = 1, on_outcome: OutcomeHandler | None = None) -> list[EntryOutcome]:
    """Enter each request; one outcome per request, in order.

    Up to `sessions` browser sessions work at once, each logged in with its own account from `credentials` (the
    legacy system allows one session per account, and the licence bounds the number): never more sessions than
    accounts. `on_outcome` is called (one call at a time) as soon as each form is done, so the caller can record it
    before the next begins. `screen_map` defaults to robots/screens/legacy_sim.yaml; `retry` to 3 tries with
    0.5 s and 1.5 s pauses.
    """
    if not requests:
        return []
    accounts = [credentials] if isinstance(credentials, tuple) else list(credentials)
    if not accounts:
        raise ValueError("no legacy system account to log in with")
    screens = load_screen_map(screen_map)
    work: queue.Queue[tuple[int, EntryRequest]] = queue.Queue()
    for index, request in enumerate(requests):
        work.put((index, request))
    results: dict[int, EntryOutcome] = {}
    report_lock = threading.Lock()
    count = max(1, min(sessions, len(accounts), len(requests)))
    # Each session on a thread of its own: Playwright's sync API is bound to its thread, and refuses a thread
    # with a running event loop (async callers, some orchestrators).
    threads = [threading.Thread(target=_session_worker, name=f"{robot_id}-session-{n + 1}",
                                args=(work, results, base_url, accounts[n], screens,
                                      robot_id if count == 1 else f"{robot_id}/{n + 1}", evidence_dir,
                                      retry or DEFAULT_RETRY, on_outcome, report_lock))
               for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [request for index, request in enumerate(requests) if index not in results]
    for index, request in enumerate(requests):
        if index not in results:
            # A session died outside any form (its browser would not start): say so for each form it left.
            results[index] = EntryOutcome(request.form_ref, "failed", None, "ロボットのセッションが異常終了しました",
                                          False, 0.0)
            if on_outcome is not None:
                on_outcome(results[index])
    if missing:
        log.error("%d forms left by a broken robot session", len(missing))
    return [results[index] for index in range(len(requests))]
