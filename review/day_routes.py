"""The routes of a supervisor's day beyond the form itself: undo, progress, and the sign-in locks an admin lifts."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ledger.db import session_scope
from review import auth, progress, throttle, undo
from review.viewmodel import Viewer


def add_routes(app: FastAPI, ctx: Any, viewer_of: Callable, posting_viewer_of: Callable) -> None:
    templates = ctx.templates

    @app.post("/undo")
    def undo_last(request: Request, viewer: Viewer = Depends(posting_viewer_of)):
        try:
            with session_scope(ctx.engine) as session:
                undone = undo.undo_last(session, viewer.name)
        except undo.NothingToUndo as exc:
            # Ctrl+Z posts a plain form: answer with a page that says why, not a bare JSON body.
            return templates.TemplateResponse(request, "error.html", {"status": 409, "message": str(exc),
                                                                      "viewer": viewer}, status_code=409)
        target = f"/forms/{undone.form_pk}?undone=" + (undone.field_name or "")
        return RedirectResponse(target, status_code=303)

    @app.get("/progress", response_class=HTMLResponse)
    def progress_page(request: Request, viewer: Viewer = Depends(viewer_of)):
        with session_scope(ctx.engine, write=False) as session:
            today = progress.person_today(session, viewer.name)
            people = progress.people_figures(session) if viewer.may_see_personal_numbers else []
            from ledger import review_repo

            forms_waiting, fields_waiting = review_repo.queue_size(session)
        return templates.TemplateResponse(request, "progress.html", {
            "viewer": viewer, "today": today, "people": people, "forms_waiting": forms_waiting,
            "fields_waiting": fields_waiting, "is_supervisor": viewer.may_see_personal_numbers})

    @app.get("/admin/locks", response_class=HTMLResponse)
    def locks_page(request: Request, viewer: Viewer = Depends(viewer_of)):
        if not auth.may_lift_locks(viewer.role):
            raise HTTPException(403, "ロックの解除は管理者のみできます / admins only")
        with session_scope(ctx.engine, write=False) as session:
            locks = throttle.current_locks(session, ctx.settings.throttle)
        return templates.TemplateResponse(request, "locks.html", {"viewer": viewer, "locks": locks})

    @app.post("/admin/locks/unlock")
    def unlock(subject: str = Form(""), viewer: Viewer = Depends(posting_viewer_of)):
        if not auth.may_lift_locks(viewer.role):
            raise HTTPException(403, "ロックの解除は管理者のみできます / admins only")
        try:
            with session_scope(ctx.engine) as session:
                throttle.unlock(session, subject, viewer.name)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return RedirectResponse("/admin/locks?unlocked=1", status_code=303)
