"""The screens: login, the frameset with its menu, 異動届入力 and 異動届照会."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from legacy_sim import accounts, records, wareki
from legacy_sim.db import connect
from legacy_sim.faults import FaultInjector
from legacy_sim.ido_entry import (CHOSHU_HOHO, ERA_OPTIONS, IDO_JIYU, INPUT_NAMES, MAX_LENGTHS, check_entry,
                                  is_hankaku_kana, wareki_date)
from legacy_sim.rendering import read_form, render
from legacy_sim.settings import SimSettings

MSG_LOGIN_REQUIRED = "ログインしてください。"
MSG_SESSION_EXPIRED = "セッションの有効期限が切れました。再度ログインしてください。"
MSG_LOGIN_FAILED = "利用者IDまたはパスワードが正しくありません。"
MSG_LOGGED_OUT = "ログアウトしました。"
MSG_BAD_TOKEN = "不正な画面遷移です。メニューから操作をやり直してください。（二重送信または画面の有効期限切れ）"
MSG_RECORD_LOCKED = "他の端末で処理中のため登録できませんでした。しばらく待ってから再度登録してください。"


@dataclass
class SimContext:
    db_path: Path
    settings: SimSettings
    faults: FaultInjector


router = APIRouter()


def _sim(request: Request) -> SimContext:
    return request.app.state.sim


def _screen_context() -> dict[str, object]:
    return {"maxlen": MAX_LENGTHS, "eras": ERA_OPTIONS, "jiyu": list(IDO_JIYU.items()),
            "hoho": list(CHOSHU_HOHO.items())}


def _login_page(conn, message: str | None = None) -> Response:
    token = accounts.issue_token(conn, None, time.time())
    return render("login.html", title="ログイン", screen_id="LGN0001", token=token, message=message)


def _session(conn, request: Request) -> accounts.SessionLookup:
    sim = _sim(request)
    return accounts.lookup_session(conn, request.cookies.get(accounts.SESSION_COOKIE), time.time(),
                                   idle_timeout=sim.settings.idle_timeout_seconds,
                                   lifetime=sim.settings.faults.session_lifetime_seconds)


def _not_logged_in(conn, session: accounts.SessionLookup) -> Response:
    # Old systems show the login page wherever the request landed, frames included.
    return _login_page(conn, MSG_SESSION_EXPIRED if session.state == "expired" else MSG_LOGIN_REQUIRED)


def _bad_token() -> Response:
    return render("error.html", status_code=400, title="エラー", screen_id="ERR0001", message=MSG_BAD_TOKEN)


@router.get("/")
def index() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=404)


@router.get("/login")
def login_form(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        return _login_page(conn)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    now = time.time()
    with connect(_sim(request).db_path) as conn:
        if not accounts.consume_token(conn, form.get("hidToken"), None, now):
            return _login_page(conn, "画面の有効期限が切れました。再度ログインしてください。")
        user_id = form.get("txtUserId", "").strip()
        if not accounts.check_password(conn, user_id, form.get("txtPassword", "")):
            return _login_page(conn, MSG_LOGIN_FAILED)
        session_id = accounts.start_session(conn, user_id, now)
    response = RedirectResponse("/main", status_code=303)
    response.set_cookie(accounts.SESSION_COOKIE, session_id, httponly=True, samesite="lax", path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        accounts.end_session(conn, session.session_id or "", time.time())
        return _login_page(conn, MSG_LOGGED_OUT)


@router.get("/main")
def main_frames(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
    return render("frameset.html")


@router.get("/menu")
def menu(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        token = accounts.issue_token(conn, session.session_id, time.time())
        return render("menu.html", title="メニュー", screen_id="", user_name=None, token=token)


@router.get("/top")
def top(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
    return render("top.html", title="トップ", screen_id="TOP0001", user_name=session.display_name)


def _entry_page(conn, session: accounts.SessionLookup, values: dict[str, str], *,
                errors: list[str] | None = None, message: str | None = None) -> Response:
    token = accounts.issue_token(conn, session.session_id, time.time())
    return render("ido_entry.html", title="給与所得者異動届出書 入力", screen_id="IDO0101",
                  user_name=session.display_name, token=token, v=values, errors=errors or [], message=message,
                  **_screen_context())


@router.get("/ido/entry")
def entry_form(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _entry_page(conn, session, {"selIdoGengo": "5"})


@router.post("/ido/entry")
async def entry_submit(request: Request) -> Response:
    form = await read_form(request)
    sim = _sim(request)
    with connect(sim.db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: form.get(name, "") for name in INPUT_NAMES}
        if sim.faults.record_locked("POST /ido/entry"):
            return _entry_page(conn, session, values, message=MSG_RECORD_LOCKED)
        checked = check_entry(form)
        if checked.record is None:
            return _entry_page(conn, session, values, errors=checked.errors)
        forced = form.get("hidForce") == "1"
        duplicate_no = records.find_duplicate(conn, checked.record)
        if duplicate_no and not forced:
            token = accounts.issue_token(conn, session.session_id, time.time())
            return render("ido_duplicate.html", title="重複確認", screen_id="IDO0102", user_name=session.display_name,
                          token=token, v=values, duplicate_no=duplicate_no)
        uketsuke_no = records.insert_record(conn, checked.record, session.user_id or "", forced=forced,
                                            now=datetime.now())
        return render("ido_complete.html", title="給与所得者異動届出書 登録完了", screen_id="IDO0103",
                      user_name=session.display_name, uketsuke_no=uketsuke_no)


def _display(stored: records.StoredRecord) -> dict[str, str]:
    """A record as the screens show it: 和暦 dates, amounts with commas, code:名称."""
    record = stored.record
    return {
        "uketsuke_no": stored.uketsuke_no, "shitei_no": record.shitei_no, "hojin_no": record.hojin_no,
        "jigyosho_mei": record.jigyosho_mei, "jigyosho_shozai": record.jigyosho_shozai,
        "kana_shimei": record.kana_shimei, "shimei": record.shimei, "sei_ymd": wareki.display(record.sei_ymd),
        "kojin_no": record.kojin_no, "jusho": record.jusho, "nenzei": f"{record.nenzei:,}",
        "choshuzumi": f"{record.choshuzumi:,}", "michoshu": f"{record.michoshu:,}",
        "ido_ymd": wareki.display(record.ido_ymd),
        "ido_jiyu": f"{record.ido_jiyu}:{IDO_JIYU.get(record.ido_jiyu, '')}",
        "choshu_hoho": f"{record.choshu_hoho}:{CHOSHU_HOHO.get(record.choshu_hoho, '')}",
        "registered_by": stored.registered_by, "registered_at": stored.registered_at.replace("T", " "),
    }


def _inquiry_page(conn, session: accounts.SessionLookup, values: dict[str, str], *,
                  errors: list[str] | None = None, hits: list[records.StoredRecord] | None = None,
                  detail: records.StoredRecord | None = None, no_hits: bool = False) -> Response:
    now = time.time()
    return render("ido_inquiry.html", title="給与所得者異動届出書 照会", screen_id="IDO0201",
                  user_name=session.display_name, v=values, errors=errors or [],
                  receipt_token=accounts.issue_token(conn, session.session_id, now),
                  person_token=accounts.issue_token(conn, session.session_id, now),
                  hits=[_display(hit) for hit in hits or []], detail=_display(detail) if detail else None,
                  no_hits=no_hits, **_screen_context())


@router.get("/ido/inquiry")
def inquiry_form(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _inquiry_page(conn, session, {})


@router.post("/ido/inquiry")
async def inquiry_search(request: Request) -> Response:
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: value for name, value in form.items() if name not in ("hidToken", "hidMode")}
        if form.get("hidMode") == "uketsuke":
            found = records.find_by_receipt(conn, form.get("txtUketsukeNo", "").strip())
            return _inquiry_page(conn, session, values, detail=found, no_hits=found is None)
        errors: list[str] = []
        shitei_no = form.get("txtKensakuShiteiNo", "").strip()
        if not (shitei_no.isascii() and shitei_no.isdigit()):
            errors.append("指定番号は半角数字で入力してください。")
        kana = form.get("txtKensakuKana", "").strip()
        if not is_hankaku_kana(kana):
            errors.append("カナ氏名は半角カナで入力してください。")
        sei_ymd = wareki_date(form, "selKensakuSeiGengo", "txtKensakuSei")
        if sei_ymd is None:
            errors.append("生年月日が正しくありません。")
        if errors:
            return _inquiry_page(conn, session, values, errors=errors)
        hits = records.search_by_person(conn, shitei_no, kana, sei_ymd or "")
        return _inquiry_page(conn, session, values, hits=hits, no_hits=not hits)


@router.get("/ido/detail")
def inquiry_detail(request: Request, no: str = "") -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        found = records.find_by_receipt(conn, no.strip())
        return _inquiry_page(conn, session, {"txtUketsukeNo": no}, detail=found, no_hits=found is None)
