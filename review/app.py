"""The supervisors' review page: sign-in, the queue, the form view, group verification and blind entry.

Server-rendered (Jinja2); the little JavaScript there is only moves the focus and posts a field at a time. Every
page and image needs a signed-in session; every post needs the session's CSRF token.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import review_repo
from ledger.audit import append_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AUDIT_ACTOR_INDEX, FIELD_STATUS_INDEX
from ledger.models import Form as FormRow
from ledger.states import FormState, utc_now
from ledger.values import reveal_value
from ledger import as_written
from review import auth, blind, prerender, progress, throttle
from review.fields import KIND_LABELS, check_input, display_value, holds_personal_number, reason_label
from review.images import ImageUnavailable, PageImages
from review.settings import ReviewSettings
from review.viewmodel import (Viewer, field_view, flagged_views, settled_fields, spec_of,
                              template_for, template_of)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "taxintake_review"
LOGIN_CSRF_COOKIE = "taxintake_review_login"
STATE_LABELS = {
    FormState.NEEDS_REVIEW: "確認待ち", FormState.READY: "確認済（入力待ち）", FormState.QUARANTINED: "保留（差し戻し）",
    FormState.ENTERING: "入力中", FormState.ENTERED: "入力済", FormState.ENTRY_FAILED: "入力失敗",
    FormState.RECEIVED: "受付", FormState.READ: "読取済",
}
WIDE_BOX_PERCENT = 35.0  # a box this share of the page wide (an address, a kana line) gets a whole grid row
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
}


class NotSignedIn(Exception):
    pass


@dataclass
class _Context:
    settings: ReviewSettings
    engine: Any
    images: PageImages
    templates: Jinja2Templates
    prerender: prerender.PrerenderWorker | None = None


def _prerendering(ctx: _Context):
    """The pre-rendering worker runs while the app serves (the next form's images made before it is asked for)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if ctx.prerender is not None:
            ctx.prerender.start()
        try:
            yield
        finally:
            if ctx.prerender is not None:
                ctx.prerender.stop()

    return lifespan


def create_app(settings: ReviewSettings) -> FastAPI:
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    for index in (FIELD_STATUS_INDEX, AUDIT_ACTOR_INDEX):
        try:
            index.create(engine, checkfirst=True)  # ledgers made before the index existed
        except (OperationalError, ProgrammingError):  # another process made it a moment ago
            pass
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(kind_labels=KIND_LABELS, state_labels=STATE_LABELS, role_labels=auth.ROLE_LABELS)
    templates.env.filters["age"] = _age
    templates.env.filters["local_time"] = _local_time
    ctx = _Context(settings, engine, PageImages(settings.archive_root, settings.cache_dir), templates)
    ctx.prerender = prerender.PrerenderWorker(engine, ctx.images) if settings.prerender else None
    app = FastAPI(title="taxintake 確認画面", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_prerendering(ctx))
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, _exc: NotSignedIn):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return JSONResponse({"ok": False, "message": "サインインしてください / sign in first"}, status_code=401)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return templates.TemplateResponse(request, "error.html", {"status": exc.status_code,
                                                                      "message": exc.detail, "viewer": None},
                                              status_code=exc.status_code)
        return JSONResponse({"ok": False, "message": exc.detail}, status_code=exc.status_code)

    _add_routes(app, ctx)
    from review import day_routes

    day_routes.add_routes(app, ctx, _viewer, _posting_viewer)
    from review import template_editor  # the template workshop's editor, for admins
    app.include_router(template_editor.router)
    return app


# ---- sign-in and the guards of every request ---------------------------------------------------------------------

def _viewer(request: Request) -> Viewer:
    ctx: _Context = request.app.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn()
    with session_scope(ctx.engine, write=False) as session:
        found = review_repo.live_session(session, auth.token_hash(token))
        if found is None:
            raise NotSignedIn()
        return Viewer(found.user.name, found.user.display_name, found.user.role, found.created_at, found.csrf_token)


async def _posting_viewer(request: Request) -> Viewer:
    """A signed-in viewer whose post carries the session's CSRF token (header or form field)."""
    from starlette.concurrency import run_in_threadpool

    viewer = await run_in_threadpool(_viewer, request)
    given = request.headers.get("x-csrf-token")
    if not given:
        form = await request.form()
        given = str(form.get("csrf_token") or "")
    if not auth.tokens_match(viewer.csrf_token, given):
        raise HTTPException(403, "不正な要求です（確認トークンがありません）/ missing or wrong CSRF token")
    return viewer


def _set_cookie(response: Response, ctx: _Context, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, secure=ctx.settings.secure_cookies,
                        samesite="strict", path="/")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" and "https://…" would make the sign-in an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _age(value: datetime) -> str:
    seconds = max(0, int((utc_now() - value).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}分"
    if seconds < 86400:
        return f"{seconds // 3600}時間"
    return f"{seconds // 86400}日"


def _local_time(value: datetime) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")


def _add_routes(app: FastAPI, ctx: _Context) -> None:
    templates = ctx.templates

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/queue", error: str = ""):
        login_token = auth.new_token()
        response = templates.TemplateResponse(request, "login.html", {
            "viewer": None, "next": _safe_next(next), "csrf_token": login_token, "error": error})
        _set_cookie(response, ctx, LOGIN_CSRF_COOKIE, login_token, 1800)
        return response

    @app.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""), next: str = Form("/queue"),
              csrf_token: str = Form("")):
        if not auth.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
            raise HTTPException(403, "不正な要求です（確認トークンがありません）/ missing or wrong CSRF token")
        address = request.client.host if request.client else "?"
        with session_scope(ctx.engine) as session:
            refusal = throttle.check(session, name, address, ctx.settings.throttle)
            if refusal is not None:
                session.commit()
                return templates.TemplateResponse(request, "login.html", {
                    "viewer": None, "next": _safe_next(next), "csrf_token": csrf_token, "error": refusal.message},
                    status_code=429, headers={"Retry-After": str(refusal.retry_after_seconds)})
            user = review_repo.user_by_name(session, name.strip())
            valid = auth.verify_password(user.password_hash if user else None, password)
            if not (valid and user is not None and user.active):
                locked = throttle.record_failure(session, name, address, ctx.settings.throttle)
                session.commit()
                error = ("利用者名またはパスワードが違います / wrong user name or password" if not locked else
                         "サインインの失敗が続いたためロックしました。管理者に解除を依頼してください / locked")
                return templates.TemplateResponse(request, "login.html", {
                    "viewer": None, "next": _safe_next(next), "csrf_token": csrf_token, "error": error},
                    status_code=401)
            throttle.record_success(session, user.name, address)
            token = auth.new_token()
            review_repo.start_session(session, user, auth.token_hash(token), auth.new_token(),
                                      ctx.settings.session_lifetime)
        response = RedirectResponse(_safe_next(next), status_code=303)
        _set_cookie(response, ctx, SESSION_COOKIE, token, int(ctx.settings.session_lifetime.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout(request: Request, viewer: Viewer = Depends(_posting_viewer)):
        with session_scope(ctx.engine) as session:
            review_repo.end_session(session, auth.token_hash(request.cookies.get(SESSION_COOKIE, "")))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    def home(viewer: Viewer = Depends(_viewer)):
        return RedirectResponse("/queue", status_code=303)

    # ---- the queue ----------------------------------------------------------------------------------------------

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, page: int = 1, viewer: Viewer = Depends(_viewer)):
        page = max(1, page)
        size = ctx.settings.queue_page_size
        with session_scope(ctx.engine, write=False) as session:
            rows = review_repo.review_queue(session, limit=size, offset=(page - 1) * size)
            forms_waiting, fields_waiting = review_repo.queue_size(session)
        titles = {row.form_id: _title(row.form_id) for row in rows}
        return templates.TemplateResponse(request, "queue.html", {
            "viewer": viewer, "rows": rows, "titles": titles, "page": page,
            "pages": max(1, -(-forms_waiting // size)), "forms_waiting": forms_waiting,
            "fields_waiting": fields_waiting})

    @app.get("/forms/next")
    def next_form(skip: str = "", viewer: Viewer = Depends(_viewer)):
        skipped = [int(part) for part in skip.split(",") if part.isdigit()]
        with session_scope(ctx.engine, write=False) as session:
            form_pk = review_repo.next_form_pk(session, skipped)
        if form_pk is None:
            return RedirectResponse("/queue?done=1", status_code=303)
        return RedirectResponse(f"/forms/{form_pk}?skip={','.join(map(str, skipped))}", status_code=303)

    # ---- the form view ------------------------------------------------------------------------------------------

    @app.get("/forms/{form_pk}", response_class=HTMLResponse)
    def form_view(request: Request, form_pk: int, skip: str = "", viewer: Viewer = Depends(_viewer)):
        with session_scope(ctx.engine, write=False) as session:
            form = review_repo.form_for_review(session, form_pk)
            if form is None:
                raise HTTPException(404, f"様式 {form_pk} は台帳にありません / no form {form_pk}")
            template = template_of(form)
            if template is None:
                raise HTTPException(409, f"様式 {form_pk} のテンプレートがありません / form {form_pk} has no template")
            entries = review_repo.blind_entries(session, form_pk)
            fields = flagged_views(form, template, entries, ctx.settings.blind_kinds, viewer)
            settled = settled_fields(form, template)
            place = progress.queue_place(session, form)
            batch_left = progress.batch_left(session, form.batch_id)
            today = progress.person_today(session, viewer.name)
        skipped = [part for part in skip.split(",") if part.isdigit() and part != str(form_pk)]
        if ctx.prerender is not None:
            ctx.prerender.wake()  # the forms after this one, made ready while this one is reviewed
        skip_list = ",".join([*skipped, str(form_pk)])
        return templates.TemplateResponse(request, "form.html", {
            "skip_list": skip_list, "place": place, "batch_left": batch_left, "today": today,
            "as_written_reasons": as_written.REASONS,
            "viewer": viewer, "form": form, "template": template, "fields": fields, "settled": settled,
            "in_review": form.state == FormState.NEEDS_REVIEW,
            "open_count": sum(1 for f in fields if f.actionable),
            "next_url": "/forms/next?skip=" + skip_list,
            "page_ratio": round(100 * template.page.height_mm / template.page.width_mm, 3)})

    @app.get("/forms/{form_pk}/page.jpg")
    def page_image(form_pk: int, viewer: Viewer = Depends(_viewer)):
        key, template, _ = _image_source(ctx, form_pk)
        try:
            body = prerender.page_overview(ctx.images, key, template)
        except ImageUnavailable as exc:
            raise HTTPException(404, str(exc)) from exc
        return Response(body, media_type="image/jpeg")

    @app.get("/forms/{form_pk}/zoom.jpg")
    def zoom_image(form_pk: int, viewer: Viewer = Depends(_viewer)):
        key, template, _ = _image_source(ctx, form_pk)
        try:
            body = prerender.page_zoom(ctx.images, key, template)
        except ImageUnavailable as exc:
            raise HTTPException(404, str(exc)) from exc
        return Response(body, media_type="image/jpeg")

    @app.get("/forms/{form_pk}/fields/{name}/crop.png")
    def crop_image(form_pk: int, name: str, viewer: Viewer = Depends(_viewer)):
        key, template, reasons = _image_source(ctx, form_pk, name)
        spec = spec_of(template, name)
        if spec is None:
            raise HTTPException(404, f"項目 {name} はありません / no field {name}")
        if holds_personal_number(spec):
            if not viewer.may_see_personal_numbers:
                raise HTTPException(403, "個人番号の画像は監督者のみ表示できます / supervisors only")
            with session_scope(ctx.engine, write=False) as session:
                revealed = review_repo.revealed_since(session, form_pk, name, viewer.name, viewer.session_started)
            if not revealed:
                raise HTTPException(403, "個人番号は表示操作（F2）の後に表示されます / reveal first")
        try:
            body = prerender.field_crop(ctx.images, key, template, spec, reasons)
        except ImageUnavailable as exc:
            raise HTTPException(404, str(exc)) from exc
        return Response(body, media_type="image/png")

    @app.post("/forms/{form_pk}/fields/{name}/reveal")
    def reveal(form_pk: int, name: str, viewer: Viewer = Depends(_posting_viewer)):
        with session_scope(ctx.engine) as session:
            form = review_repo.form_for_review(session, form_pk)
            template = template_of(form) if form else None
            spec = spec_of(template, name)
            field_row = next((f for f in form.fields if f.name == name), None) if form else None
            if form is None or spec is None or field_row is None:
                raise HTTPException(404, f"項目 {name} はありません / no field {name}")
            if not holds_personal_number(spec):
                raise HTTPException(400, "個人番号の項目ではありません / not a 個人番号 field")
            if not viewer.may_see_personal_numbers:
                review_repo.record_reveal_refused(session, form_pk, name, viewer.name)
                session.commit()
                raise HTTPException(403, "個人番号の表示は監督者のみできます / only supervisors may reveal a 個人番号")
            entries = review_repo.blind_entries(session, form_pk).get(name, [])
            mode = blind.review_mode(spec.kind, review_repo.reasons_of(field_row), entries,
                                     ctx.settings.blind_kinds, viewer.name)
            show_value = mode in ("form", "conflict")
            review_repo.record_reveal(session, form_pk, name, viewer.name, "value+crop" if show_value else "crop")
            value = reveal_value(field_row.value) if show_value else None  # decrypted only to be shown
        return {"ok": True, "crop_url": f"/forms/{form_pk}/fields/{name}/crop.png",
                "value": (value if isinstance(value, str) else "") if show_value else None}

    @app.post("/forms/{form_pk}/fields/{name}")
    def save_field(form_pk: int, name: str, value: str = Form(""), force: str = Form(""),
                   seconds: float = Form(0.0), view: str = Form("form"), as_written_reason: str = Form(""),
                   viewer: Viewer = Depends(_posting_viewer)):
        try:
            return _save_field(ctx, form_pk, name, value, force == "1", seconds, view, viewer,
                               as_written_reason)
        except review_repo.AlreadyResolved as exc:
            return JSONResponse({"ok": False, "message": str(exc), "resolved": True}, status_code=409)
        except StaleDataError:
            return JSONResponse({"ok": False, "message": "他の人が同時に更新しました。再読み込みしてください / "
                                 "changed by someone else meanwhile", "resolved": True}, status_code=409)

    @app.post("/forms/{form_pk}/confirm")
    def confirm_form(form_pk: int, viewer: Viewer = Depends(_posting_viewer), skip: str = Form("")):
        try:
            with session_scope(ctx.engine) as session:
                ready = review_repo.confirm_form_without_flags(session, form_pk, viewer.name)
        except review_repo.AlreadyResolved as exc:
            raise HTTPException(409, str(exc)) from exc
        if not ready:
            raise HTTPException(409, "未確認の項目が残っています / flagged fields remain")
        return RedirectResponse(f"/forms/next?skip={skip}", status_code=303)

    @app.post("/forms/{form_pk}/reject")
    def reject(form_pk: int, reason: str = Form(""), seconds: float = Form(0.0), skip: str = Form(""),
               viewer: Viewer = Depends(_posting_viewer)):
        if not auth.may_quarantine(viewer.role):
            with session_scope(ctx.engine) as session:
                append_audit(session, actor=viewer.name, action="review.reject_refused", subject=f"form:{form_pk}")
            raise HTTPException(403, "差し戻し（保留）は監督者が行います。F8 で飛ばしてください / "
                                     "only supervisors set a form aside")
        try:
            with session_scope(ctx.engine) as session:
                review_repo.reject_form(session, form_pk, viewer.name, reason)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        except review_repo.AlreadyResolved as exc:
            raise HTTPException(409, str(exc)) from exc
        return RedirectResponse(f"/forms/next?skip={skip}", status_code=303)

    @app.post("/forms/{form_pk}/time")
    def form_time(form_pk: int, seconds: float = Form(0.0), view: str = Form("form"),
                  viewer: Viewer = Depends(_posting_viewer)):
        with session_scope(ctx.engine) as session:
            if session.get(FormRow, form_pk) is None:
                raise HTTPException(404, f"no form {form_pk}")
            review_repo.record_review_time(session, form_pk, None, viewer.name,
                                           view if view in ("form", "group") else "form", seconds)
        return Response(status_code=204)

    # ---- group verification -------------------------------------------------------------------------------------

    @app.get("/group", response_class=HTMLResponse)
    def group_index(request: Request, viewer: Viewer = Depends(_viewer)):
        with session_scope(ctx.engine, write=False) as session:
            counts = review_repo.flagged_field_counts(session, without_reason=review_repo.AUDIT_SAMPLE_REASON)
        groups: dict[tuple[int, str], dict[str, Any]] = {}
        for count in counts:
            spec = spec_of(template_for(count.form_id), count.field_name)
            if spec is None:
                continue  # not a field of its template: the group page cannot show it
            kind = spec.kind
            if kind in ctx.settings.blind_kinds or holds_personal_number(spec):
                continue  # entered blind, or a 個人番号: one at a time in the form view
            group = groups.setdefault((count.batch_id, kind), {"batch_id": count.batch_id, "kind": kind,
                                                              "batch_label": count.batch_label, "count": 0})
            group["count"] += count.count
        return templates.TemplateResponse(request, "group_index.html", {
            "viewer": viewer, "groups": sorted(groups.values(), key=lambda g: (g["batch_id"], -g["count"]))})

    @app.get("/group/{batch_id}/{kind}", response_class=HTMLResponse)
    def group_view(request: Request, batch_id: int, kind: str, viewer: Viewer = Depends(_viewer)):
        if kind not in KIND_LABELS or kind in ctx.settings.blind_kinds:
            raise HTTPException(404, f"この種類はグループ確認できません / no group view for {kind}")
        names_by_form_id = {form_id: [spec.name for spec in tmpl.fields if spec.kind == kind]
                            for form_id, tmpl in _all_templates().items()}
        cards = []
        with session_scope(ctx.engine, write=False) as session:
            rows = review_repo.flagged_fields(session, batch_id, names_by_form_id, ctx.settings.group_page_size,
                                              without_reason=review_repo.AUDIT_SAMPLE_REASON)
            for field_row, form in rows:
                template = template_of(form)
                entries = review_repo.blind_entries(session, form.id).get(field_row.name, [])
                view = field_view(len(cards) + 1, field_row, template, entries, ctx.settings.blind_kinds, viewer)
                if view.mode != "form" or view.personal:
                    continue  # blind entries and 個人番号 are reviewed one at a time in the form view
                cards.append({"form_pk": form.id, "field": view, "form_title": template.title})
        return templates.TemplateResponse(request, "group.html", {
            "viewer": viewer, "cards": cards, "kind": kind, "batch_id": batch_id,
            "wide_box_percent": WIDE_BOX_PERCENT})


def _all_templates():
    from ocr.templates import available_form_ids, load_template

    return {form_id: load_template(form_id) for form_id in available_form_ids()}


def _title(form_id: str | None) -> str:
    template = template_for(form_id)
    return template.title if template else (form_id or "（不明な様式）")


def _image_source(ctx: _Context, form_pk: int, field_name: str | None = None):
    with session_scope(ctx.engine, write=False) as session:
        found = prerender.image_source(session, form_pk, field_name)
    if found is None:
        raise HTTPException(404, f"様式 {form_pk} またはそのテンプレートがありません / no form {form_pk} or template")
    return found


def _save_field(ctx: _Context, form_pk: int, name: str, typed: str, force: bool, seconds: float, view: str,
                viewer: Viewer, as_written_reason: str = "") -> JSONResponse | dict:
    with session_scope(ctx.engine) as session:
        form = review_repo.form_for_review(session, form_pk)
        if form is None:
            raise HTTPException(404, f"様式 {form_pk} は台帳にありません / no form {form_pk}")
        if form.state != FormState.NEEDS_REVIEW:
            raise review_repo.AlreadyResolved(f"様式 {form_pk} は確認待ちではありません / form is {form.state}")
        template = template_of(form)
        spec = spec_of(template, name)
        field_row = next((f for f in form.fields if f.name == name), None)
        if spec is None or field_row is None:
            raise HTTPException(404, f"項目 {name} はありません / no field {name}")
        if field_row.status != review_repo.REVIEW:
            raise review_repo.AlreadyResolved(f"{spec.label} は {field_row.corrected_by} が確認済みです / already resolved")
        personal = holds_personal_number(spec)
        if personal and not viewer.may_see_personal_numbers:
            raise HTTPException(403, "個人番号は監督者のみ確認できます / only supervisors review a 個人番号")
        reasons = review_repo.reasons_of(field_row)
        entries = review_repo.blind_entries(session, form_pk).get(name, [])
        mode = blind.review_mode(spec.kind, reasons, entries, ctx.settings.blind_kinds, viewer.name)
        if mode == "waiting":
            raise HTTPException(409, "1人目の入力者は2人目になれません / a second entry needs another person")
        if mode == "conflict" and not viewer.may_see_personal_numbers:
            raise HTTPException(403, "不一致の判断は監督者が行います / a supervisor decides a conflict")
        if mode == "conflict" and not blind.may_decide_conflict(viewer.name, True, entries):
            raise HTTPException(403, "ご自身のベリファイ入力がある不一致は、入力者以外の監督者が判断します / "
                                     "a conflict is decided by a supervisor who made neither entry")
        others = {f.name: reveal_value(f.corrected_value if f.status == "corrected" else f.value)
                  for f in form.fields}
        checked = check_input(template, spec, typed, others)
        if as_written_reason:
            return _confirm_as_written(session, form_pk, spec, checked, typed, as_written_reason, mode, seconds,
                                       view, viewer)
        if checked.hard or (checked.soft and not force):
            return JSONResponse({"ok": False, "hard": bool(checked.hard),
                                 "problems": [reason_label(p) for p in checked.problems],
                                 "message": (("入力を確認してください" + ("（用紙のとおりなら F9 で記載どおり確定）"
                                                                 if auth.may_confirm_as_written(viewer.role) else ""))
                                             if checked.hard else
                                             "値を確認してください（このまま確定は Shift+Enter）")}, status_code=422)
        time_mode = "group" if view == "group" else "form"
        if mode in ("blind", "audit_sample", "second"):
            decision, ready = blind.enter_blind(session, form_pk, name, viewer.name, checked.value,
                                                reveal_value(field_row.value), reasons, entries, seconds)
            return {"ok": True, "outcome": decision.outcome, "message": decision.message, "resolved": decision.accepted,
                    "form_state": str(FormState.READY if ready else FormState.NEEDS_REVIEW)}
        review_repo.record_review_time(session, form_pk, name, viewer.name, time_mode, seconds)
        ready = review_repo.resolve_field(session, form_pk, name, checked.value, viewer.name)
        shown = display_value(checked.value, spec)
    return {"ok": True, "outcome": "saved", "resolved": True, "value": shown,
            "message": "確定しました", "form_state": str(FormState.READY if ready else FormState.NEEDS_REVIEW)}


def _confirm_as_written(session, form_pk: int, spec, checked, typed: str, reason: str, mode: str, seconds: float,
                        view: str, viewer: Viewer) -> JSONResponse | dict:
    """記載どおり確定: a supervisor keeps a value that fails a check, with a reason from the short list."""
    subject = f"form:{form_pk}/field:{spec.name}"
    if not auth.may_confirm_as_written(viewer.role):
        append_audit(session, actor=viewer.name, action=as_written.REFUSED_ACTION, subject=subject,
                     after={"reason": reason})
        session.commit()
        raise HTTPException(403, "記載どおり確定は監督者のみできます / only supervisors confirm a value as written")
    if as_written.reason_text(reason) is None:
        raise HTTPException(422, "記載どおり確定の理由を一覧から選んでください / choose a reason from the list")
    if mode in ("blind", "audit_sample", "second"):
        raise HTTPException(409, "ベリファイ中の項目は記載どおり確定できません / not during blind entry")
    import unicodedata

    value = checked.value if checked.value is not None else (unicodedata.normalize("NFKC", typed).strip() or None)
    review_repo.record_review_time(session, form_pk, spec.name, viewer.name, "group" if view == "group" else "form",
                                   seconds)
    ready = review_repo.resolve_field(session, form_pk, spec.name, value, viewer.name, action=as_written.ACTION,
                                      audit_extra={"reason": reason, "problems": checked.problems})
    return {"ok": True, "outcome": "as_written", "resolved": True, "value": display_value(value, spec),
            "message": f"記載どおり確定しました（{as_written.reason_text(reason)}）",
            "form_state": str(FormState.READY if ready else FormState.NEEDS_REVIEW)}
