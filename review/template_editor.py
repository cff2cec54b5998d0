"""The template editor (テンプレート編集), for admins: the blank with every box drawn and numbered, each field's
settings, the cross-field rules with their parse errors, saving to the template's YAML (validated, audited) and a
trial read of an uploaded filled scan.

Mounted by `review.app` with one `include_router`; the sign-in and CSRF guards are the app's own.
"""
from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import get_args

import yaml
from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from ocr.rules import RuleSyntaxError, parse_rule
from ocr.templates import (FieldKind, Template, TemplateError, _describe_location, clear_template_cache, installed_templates,
                           load_template)

HERE = Path(__file__).resolve().parent
router = APIRouter(prefix="/admin/templates")
_pages = Jinja2Templates(directory=str(HERE / "templates"))
# Trial crops, kept in memory for the admin who asked, a few trials at a time (never a 個人番号's crop).
_TRIALS: OrderedDict[str, list[bytes]] = OrderedDict()
MAX_TRIALS = 8
MAX_UPLOAD_BYTES = 40 * 1024 * 1024


def _admin(request: Request):
    from review.app import _viewer

    viewer = _viewer(request)
    if viewer.role != "admin":
        raise HTTPException(403, "テンプレートの編集は管理者のみできます / admins only")
    return viewer


async def _posting_admin(request: Request):
    from review.app import _posting_viewer

    viewer = await _posting_viewer(request)
    if viewer.role != "admin":
        raise HTTPException(403, "テンプレートの編集は管理者のみできます / admins only")
    return viewer


def _template(form_id: str, version: str | None) -> Template:
    try:
        return load_template(form_id, version or None)
    except (TemplateError, OSError) as exc:
        raise HTTPException(404, f"テンプレート {form_id} がありません / no template {form_id}") from exc


@router.get("", response_class=HTMLResponse)
def template_list(request: Request, viewer=Depends(_admin)):
    return _pages.TemplateResponse(request, "template_list.html", {
        "viewer": viewer, "templates": installed_templates()})


@router.get("/{form_id}/edit", response_class=HTMLResponse)
def editor_page(request: Request, form_id: str, version: str = "", viewer=Depends(_admin)):
    template = _template(form_id, version)
    return _pages.TemplateResponse(request, "template_editor.html", {
        "viewer": viewer, "template": template, "kinds": list(get_args(FieldKind))})


@router.get("/{form_id}/blank.png")
def blank_image(form_id: str, version: str = "", viewer=Depends(_admin)):
    return FileResponse(_template(form_id, version).blank_path(), media_type="image/png")


@router.get("/{form_id}/data.json")
def template_data(form_id: str, version: str = "", viewer=Depends(_admin)):
    template = _template(form_id, version)
    raw = yaml.safe_load((template.folder / "template.yaml").read_text(encoding="utf-8"))
    return {"template": raw, "page_px": template.page_size_px()}


@router.post("/{form_id}/rule")
async def check_rule(form_id: str, request: Request, viewer=Depends(_posting_admin)):
    expression = str((await request.json()).get("expression", ""))
    try:
        parse_rule(expression)
    except RuleSyntaxError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "error": ""}


@router.post("/{form_id}/save")
async def save_template(form_id: str, request: Request, version: str = "", viewer=Depends(_posting_admin)):
    from ledger.audit import append_audit
    from ledger.db import session_scope

    template = _template(form_id, version)
    raw = (await request.json()).get("template")
    if not isinstance(raw, dict) or raw.get("form_id") != form_id:
        raise HTTPException(422, "様式IDは変更できません / the form id cannot change here")
    try:
        Template.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_describe_location(raw, err['loc'])}: {err['msg']}" for err in exc.errors()]
        return Response(content=_json({"ok": False, "message": "保存できません。次の項目を直してください / "
                                       "not saved: fix these", "problems": problems}),
                        status_code=422, media_type="application/json")
    path = template.folder / "template.yaml"
    before = path.read_bytes()
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")
    clear_template_cache()
    ctx = request.app.state.ctx
    with session_scope(ctx.engine) as session:
        append_audit(session, actor=viewer.name, action="template.save", subject=f"template:{form_id}:{raw['version']}",
                     before={"sha256": hashlib.sha256(before).hexdigest()},
                     after={"sha256": hashlib.sha256(text.encode()).hexdigest(), "fields": len(raw.get("fields", [])),
                            "folder": str(template.folder)})
    return {"ok": True, "message": f"保存しました（{len(raw.get('fields', []))} 項目）/ saved"}


@router.post("/{form_id}/try")
async def trial_read(form_id: str, version: str = "", scan: UploadFile = File(...), viewer=Depends(_posting_admin)):
    from starlette.concurrency import run_in_threadpool

    body = await scan.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, "ファイルが大きすぎます / file too large")
    template = _template(form_id, version)
    suffix = Path(scan.filename or "scan.png").suffix.lower() or ".png"
    return await run_in_threadpool(_trial, template, body, suffix)


def _trial(template: Template, body: bytes, suffix: str) -> dict:
    from ocr.template_check import STATUS_LABELS, try_template

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"trial{suffix}"
        path.write_bytes(body)
        pages = try_template(path, template, _recognizer())
    token = secrets.token_urlsafe(12)
    crops: list[bytes] = []
    out = []
    for page in pages:
        rows = []
        for row in page.rows:
            crop_url = None
            if row.crop_png:
                crops.append(row.crop_png)
                crop_url = f"/admin/templates/trial/{token}/{len(crops) - 1}.png"
            rows.append({"name": row.name, "label": row.label, "kind": row.kind, "value": row.value,
                         "status": STATUS_LABELS.get(row.status, row.status), "confidence": round(row.confidence, 2),
                         "reasons": row.reasons, "crop_url": crop_url})
        out.append({"page": page.page, "error": page.error, "rows": rows})
    _TRIALS[token] = crops
    while len(_TRIALS) > MAX_TRIALS:
        _TRIALS.popitem(last=False)
    return {"ok": True, "pages": out}


@router.get("/trial/{token}/{index}.png")
def trial_crop(token: str, index: int, viewer=Depends(_admin)):
    crops = _TRIALS.get(token)
    if crops is None or not 0 <= index < len(crops):
        raise HTTPException(404, "試し読みの画像はもうありません / trial image gone")
    return Response(crops[index], media_type="image/png")


_RECOGNIZER = None


def _recognizer():
    global _RECOGNIZER
    if _RECOGNIZER is None:
        from ocr.recognize import make_recognizer

        _RECOGNIZER = make_recognizer()
    return _RECOGNIZER


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
