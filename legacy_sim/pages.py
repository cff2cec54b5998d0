"""The screens: login, the frameset with its menu, 宛名検索, 法人検索, and for each form its 入力 and 照会."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from legacy_sim import accounts, records, registers, wareki
from legacy_sim.db import connect
from legacy_sim.entry_rules import check_entry, is_hankaku_kana, wareki_date
from legacy_sim.faults import FaultInjector
from legacy_sim.forms import ERA_NAMES, FORMS, FieldDef, FormDef
from legacy_sim.rendering import read_form, render
from legacy_sim.settings import SimSettings

MSG_LOGIN_REQUIRED = "ログインしてください。"
MSG_SESSION_EXPIRED = "セッションの有効期限が切れました。再度ログインしてください。"
MSG_LOGIN_FAILED = "利用者IDまたはパスワードが正しくありません。"
MSG_LOGGED_OUT = "ログアウトしました。"
MSG_BAD_TOKEN = "不正な画面遷移です。メニューから操作をやり直してください。（二重送信または画面の有効期限切れ）"
MSG_RECORD_LOCKED = "他の端末で処理中のため登録できませんでした。しばらく待ってから再度登録してください。"
MSG_NO_KOJIN_NO_ROLE = "個人番号による検索の権限がありません。"
ERA_OPTIONS = list(ERA_NAMES.items())


@dataclass
class SimContext:
    db_path: Path
    settings: SimSettings
    faults: FaultInjector


router = APIRouter()


def _sim(request: Request) -> SimContext:
    return request.app.state.sim


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


def _form_def(code: str) -> FormDef | None:
    return FORMS.get(code)


def _not_found() -> Response:
    return render("error.html", status_code=404, title="エラー", screen_id="ERR0004", message="画面が存在しません。")


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
        return render("menu.html", title="メニュー", screen_id="", user_name=None, token=token,
                      forms=list(FORMS.values()))


@router.get("/top")
def top(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
    return render("top.html", title="トップ", screen_id="TOP0001", user_name=session.display_name,
                  forms=list(FORMS.values()))


# ---- 宛名検索 (taxpayers) ----

def _atena_page(conn, session: accounts.SessionLookup, values: dict[str, str], *, errors: list[str] | None = None,
                hits: list[registers.Atena] | None = None, no_hits: bool = False) -> Response:
    token = accounts.issue_token(conn, session.session_id, time.time())
    rows = [{"atena_no": hit.atena_no, "kana_shimei": hit.kana_shimei, "shimei": hit.shimei,
             "sei_ymd": wareki.display(hit.sei_ymd), "jusho": hit.jusho} for hit in hits or []]
    return render("atena_search.html", title="宛名検索", screen_id="ATN0101", user_name=session.display_name,
                  token=token, v=values, errors=errors or [], hits=rows, no_hits=no_hits, eras=ERA_OPTIONS,
                  maxlen={}, may_search_kojin_no=session.role == "kanri")


@router.get("/atena/search")
def atena_search_form(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _atena_page(conn, session, {})


@router.post("/atena/search")
async def atena_search(request: Request) -> Response:
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: value for name, value in form.items() if name != "hidToken"}
        kojin_no = form.get("txtKensakuKojinNo", "").strip()
        if kojin_no:
            if session.role != "kanri":
                return _atena_page(conn, session, values, errors=[MSG_NO_KOJIN_NO_ROLE])
            hits = registers.search_atena(conn, kojin_no=kojin_no)
            return _atena_page(conn, session, values, hits=hits, no_hits=not hits)
        errors = []
        kana = form.get("txtKensakuKana", "").strip()
        if not is_hankaku_kana(kana):
            errors.append("カナ氏名は半角カナで入力してください。")
        sei_ymd = wareki_date(form, ("selKensakuSeiGengo", "txtKensakuSeiYY", "txtKensakuSeiMM", "txtKensakuSeiDD"))
        if not sei_ymd:
            errors.append("生年月日が正しくありません。")
        if errors:
            return _atena_page(conn, session, values, errors=errors)
        hits = registers.search_atena(conn, kana=kana, sei_ymd=sei_ymd or "")
        return _atena_page(conn, session, values, hits=hits, no_hits=not hits)


@router.get("/atena/detail")
def atena_detail(request: Request, no: str = "") -> Response:
    """宛名照会・修正: the desk that opens a person holds the record lock until it is done (or logs out)."""
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        found = registers.search_atena_by_no(conn, no.strip())
        locked = found is not None and not registers.take_lock(conn, f"atena:{found.atena_no}",
                                                              session.session_id or "", time.time())
        token = accounts.issue_token(conn, session.session_id, time.time())
        return render("atena_detail.html", title="宛名照会・修正", screen_id="ATN0102", user_name=session.display_name,
                      token=token, person=found, sei=wareki.display(found.sei_ymd) if found else "", locked=locked)


@router.post("/atena/release")
async def atena_release(request: Request) -> Response:
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        registers.release_locks(conn, session.session_id or "")
    return RedirectResponse("/atena/search", status_code=303)


# ---- 法人検索 ----

def _hojin_page(conn, session: accounts.SessionLookup, values: dict[str, str], *, errors: list[str] | None = None,
                hits: list[registers.Hojin] | None = None, no_hits: bool = False) -> Response:
    token = accounts.issue_token(conn, session.session_id, time.time())
    return render("hojin_search.html", title="法人検索", screen_id="HJN0001", user_name=session.display_name,
                  token=token, v=values, errors=errors or [], hits=hits or [], no_hits=no_hits, maxlen={})


@router.get("/hojin/search")
def hojin_search_form(request: Request) -> Response:
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _hojin_page(conn, session, {})


@router.post("/hojin/search")
async def hojin_search(request: Request) -> Response:
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: value for name, value in form.items() if name != "hidToken"}
        hojin_no = form.get("txtKensakuHojinNo", "").strip()
        kana = form.get("txtKensakuHojinKana", "").strip()
        if hojin_no and not (hojin_no.isascii() and hojin_no.isdigit() and len(hojin_no) == 13):
            return _hojin_page(conn, session, values, errors=["法人番号は半角数字13桁で入力してください。"])
        if not hojin_no and not (kana and is_hankaku_kana(kana)):
            return _hojin_page(conn, session, values, errors=["法人番号または法人名カナ（半角）を入力してください。"])
        hits = registers.search_hojin(conn, hojin_no=hojin_no, kana=kana)
        return _hojin_page(conn, session, values, hits=hits, no_hits=not hits)


# ---- 入力 ----

def _screen(form_def: FormDef, number: str) -> str:
    return f"{form_def.screen_prefix}{number}"


def _entry_page(conn, form_def: FormDef, session: accounts.SessionLookup, values: dict[str, str], *,
                errors: list[str] | None = None, message: str | None = None) -> Response:
    token = accounts.issue_token(conn, session.session_id, time.time())
    return render("entry.html", title=f"{form_def.title} 入力", screen_id=_screen(form_def, "0101"),
                  user_name=session.display_name, token=token, v=values, errors=errors or [], message=message,
                  form=form_def, sections=_sections(form_def), eras=ERA_OPTIONS, maxlen=_maxlen(form_def))


def _sections(form_def: FormDef) -> list[tuple[str, list[FieldDef]]]:
    sections: list[tuple[str, list[FieldDef]]] = []
    for spec in form_def.fields:
        if not sections or sections[-1][0] != spec.section:
            sections.append((spec.section, []))
        sections[-1][1].append(spec)
    return sections


def _maxlen(form_def: FormDef) -> dict[str, int]:
    lengths: dict[str, int] = {}
    for spec in form_def.fields:
        if spec.kind == "date":
            lengths.update({name: 2 for name in spec.date_inputs[1:]})
        elif spec.maxlen:
            lengths[spec.input_name] = spec.maxlen + (1 if spec.kind == "signed_amount" else 0)
    return lengths


def _input_names(form_def: FormDef) -> list[str]:
    return [name for spec in form_def.fields for name in spec.input_names]


@router.get("/{code}/entry")
def entry_form(request: Request, code: str) -> Response:
    form_def = _form_def(code)
    if form_def is None:
        return _not_found()
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _entry_page(conn, form_def, session, {})


def _subject_errors(conn, form_def: FormDef, record: dict[str, object]) -> list[str]:
    errors = []
    subject = str(record[form_def.subject.column])
    if form_def.subject.kind == "atena_no" and not registers.atena_exists(conn, subject):
        errors.append("宛名番号が存在しません。宛名検索で確認してください。")
    if form_def.subject.kind == "kanri_no" and not registers.hojin_exists(conn, subject):
        errors.append("法人管理番号が存在しません。法人検索で確認してください。")
    if "shitei_no" in record and record["shitei_no"] and not registers.shitei_exists(conn, str(record["shitei_no"])):
        errors.append("特別徴収義務者指定番号が登録されていません。")
    return errors


@router.post("/{code}/entry")
async def entry_submit(request: Request, code: str) -> Response:
    form_def = _form_def(code)
    if form_def is None:
        return _not_found()
    form = await read_form(request)
    sim = _sim(request)
    with connect(sim.db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: form.get(name, "") for name in _input_names(form_def)}
        if sim.faults.record_locked(f"POST /{code}/entry"):
            return _entry_page(conn, form_def, session, values, message=MSG_RECORD_LOCKED)
        checked = check_entry(form_def, form)
        if checked.record is None:
            return _entry_page(conn, form_def, session, values, errors=checked.errors)
        record = checked.record
        errors = _subject_errors(conn, form_def, record)
        if errors:
            return _entry_page(conn, form_def, session, values, errors=errors)
        subject = f"{form_def.subject.kind.split('_')[0]}:{record[form_def.subject.column]}"
        if registers.lock_holder(conn, subject, session.session_id, time.time()) is not None:
            return _entry_page(conn, form_def, session, values, message=MSG_RECORD_LOCKED)
        forced = form.get("hidForce") == "1"
        duplicate_no = records.find_duplicate(conn, form_def, record)
        if duplicate_no and not forced:
            token = accounts.issue_token(conn, session.session_id, time.time())
            return render("duplicate.html", title="重複確認", screen_id=_screen(form_def, "0102"),
                          user_name=session.display_name, token=token, v=values, duplicate_no=duplicate_no,
                          form=form_def)
        uketsuke_no = records.insert_record(conn, form_def, record, session.user_id or "", forced=forced,
                                            now=datetime.now())
        return render("complete.html", title=f"{form_def.title} 登録完了", screen_id=_screen(form_def, "0103"),
                      user_name=session.display_name, uketsuke_no=uketsuke_no, form=form_def)


# ---- 照会 ----

def display_value(spec: FieldDef, value: object) -> str:
    """A stored value as the screens show it: 和暦 dates, amounts with commas (△ when negative), code:名称, ○."""
    if value is None or value == "":
        return ""
    if spec.kind == "date":
        return wareki.display(str(value))
    if spec.kind in ("amount", "signed_amount"):
        number = int(value)  # type: ignore[call-overload]
        return f"△{-number:,}" if number < 0 else f"{number:,}"
    if spec.kind in ("code", "radio"):
        return f"{value}:{(spec.options or {}).get(str(value), '')}"
    if spec.kind == "check":
        return "○" if value else ""
    return str(value)


def _display(form_def: FormDef, stored: records.StoredRecord) -> dict[str, str]:
    shown = {spec.column: display_value(spec, stored.values[spec.column]) for spec in form_def.fields}
    shown.update(uketsuke_no=stored.uketsuke_no, registered_by=stored.registered_by,
                 registered_at=stored.registered_at.replace("T", " "))
    return shown


def _inquiry_page(conn, form_def: FormDef, session: accounts.SessionLookup, values: dict[str, str], *,
                  errors: list[str] | None = None, hits: list[records.StoredRecord] | None = None,
                  detail: records.StoredRecord | None = None, no_hits: bool = False) -> Response:
    now = time.time()
    return render("inquiry.html", title=f"{form_def.title} 照会", screen_id=_screen(form_def, "0201"),
                  user_name=session.display_name, v=values, errors=errors or [], form=form_def,
                  receipt_token=accounts.issue_token(conn, session.session_id, now),
                  subject_token=accounts.issue_token(conn, session.session_id, now),
                  list_fields=[form_def.field(column) for column in form_def.list_columns],
                  hits=[_display(form_def, hit) for hit in hits or []],
                  detail=_display(form_def, detail) if detail else None, no_hits=no_hits, maxlen={})


@router.get("/{code}/inquiry")
def inquiry_form(request: Request, code: str) -> Response:
    form_def = _form_def(code)
    if form_def is None:
        return _not_found()
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        return _inquiry_page(conn, form_def, session, {})


@router.post("/{code}/inquiry")
async def inquiry_search(request: Request, code: str) -> Response:
    form_def = _form_def(code)
    if form_def is None:
        return _not_found()
    form = await read_form(request)
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        if not accounts.consume_token(conn, form.get("hidToken"), session.session_id, time.time()):
            return _bad_token()
        values = {name: value for name, value in form.items() if name not in ("hidToken", "hidMode")}
        if form.get("hidMode") == "uketsuke":
            found = records.find_by_receipt(conn, form_def, form.get("txtUketsukeNo", "").strip())
            return _inquiry_page(conn, form_def, session, values, detail=found, no_hits=found is None)
        subject = form.get("txtKensakuShutai", "").strip()
        if not subject:
            return _inquiry_page(conn, form_def, session, values,
                                 errors=[f"{form_def.subject.label}を入力してください。"])
        hits = records.search_by_subject(conn, form_def, subject)
        return _inquiry_page(conn, form_def, session, values, hits=hits, no_hits=not hits)


@router.get("/{code}/detail")
def inquiry_detail(request: Request, code: str, no: str = "") -> Response:
    form_def = _form_def(code)
    if form_def is None:
        return _not_found()
    with connect(_sim(request).db_path) as conn:
        session = _session(conn, request)
        if session.state != "live":
            return _not_logged_in(conn, session)
        found = records.find_by_receipt(conn, form_def, no.strip())
        return _inquiry_page(conn, form_def, session, {"txtUketsukeNo": no}, detail=found, no_hits=found is None)
