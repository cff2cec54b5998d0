"""The review page's images made before anyone asks for them, kept as files the page only has to send.

Registering a page costs a second or more of CPU, and decoding the registered page to cut one crop a tenth of one;
done on demand that was 5–8 s before a form's first view and 5 s for a group page of 45 crops. Here every form
waiting for review gets, ahead of time: its page overview, its page at full resolution (the zoom) and the crop of
each flagged field, under TAXINTAKE_HOME/review_cache/views/<sha256>_p<page>_<form id>/ — named by the scan's
content, never by a person's name or number. A background worker of the review app walks the queue in its order
(the next form first) and is woken by each form view; a file not yet made is rendered on demand and kept.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ocr.templates import FieldSpec, Template
from review.images import ImageUnavailable, PageImages, PageKey
from review.viewmodel import personal_boxes

log = logging.getLogger(__name__)

BEYOND_BOX_REASON = "text_beyond_box"
READY_MARKER = "ready"
SCAN_PAGE = 200  # forms looked at per query while walking the queue
IDLE_SECONDS = 10.0  # how often the worker looks for new forms when nobody wakes it


def view_dir(cache_dir: Path, key: PageKey) -> Path:
    return cache_dir / "views" / key.cache_name.removesuffix(".png")


def crop_is_wide(reasons: list[str]) -> bool:
    return any(reason.split(":", 1)[0] == BEYOND_BOX_REASON for reason in reasons)


def _kept(path: Path, render: Callable[[], bytes]) -> bytes:
    """The file's bytes; rendered and written first (atomically: a reader never sees half a file) if missing."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    body = render()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{threading.get_ident()}.partial")
    partial.write_bytes(body)
    partial.replace(path)
    return body


def page_overview(images: PageImages, key: PageKey, template: Template) -> bytes:
    return _kept(view_dir(images.cache_root, key) / "page.jpg",
                 lambda: images.page_jpeg(key, template, personal_boxes(template)))


def page_zoom(images: PageImages, key: PageKey, template: Template) -> bytes:
    return _kept(view_dir(images.cache_root, key) / "zoom.jpg",
                 lambda: images.zoom_jpeg(key, template, personal_boxes(template)))


def field_crop(images: PageImages, key: PageKey, template: Template, spec: FieldSpec, reasons: list[str]) -> bytes:
    wide = crop_is_wide(reasons)
    name = f"crop_{spec.name}{'_beyond' if wide else ''}.png"
    return _kept(view_dir(images.cache_root, key) / name,
                 lambda: images.crop_png(key, template, spec.box, personal_boxes(template), beyond_box=wide))


@dataclass(frozen=True)
class WaitingForm:
    key: PageKey
    template: Template
    flagged: tuple[tuple[str, tuple[str, ...]], ...]  # (field name, reasons) of each flagged field


def is_ready(cache_dir: Path, key: PageKey) -> bool:
    return (view_dir(cache_dir, key) / READY_MARKER).exists()


def prerender(images: PageImages, form: WaitingForm) -> None:
    """Everything the form view and the group page show of this form, made now (safe to repeat)."""
    page_overview(images, form.key, form.template)
    page_zoom(images, form.key, form.template)
    for name, reasons in form.flagged:
        try:
            spec = form.template.field(name)
        except KeyError:
            continue
        field_crop(images, form.key, form.template, spec, list(reasons))
    (view_dir(images.cache_root, form.key) / READY_MARKER).touch()


def image_source(session, form_pk: int, field_name: str | None = None
                 ) -> tuple[PageKey, Template, list[str]] | None:
    """What an image request needs of a form (its scan, its template, the field's reasons), in two small queries:
    the form view's own query loads every field of the form, and a group page asks for 60 crops."""
    from ledger import review_repo
    from ledger.models import FieldValue, Form, ScanFile
    from review.viewmodel import template_for

    row = session.execute(select(Form.form_id, Form.page, ScanFile.sha256, ScanFile.archived_path)
                          .join(ScanFile, ScanFile.id == Form.scan_file_id).where(Form.id == form_pk)).one_or_none()
    if row is None:
        return None
    form_id, page, sha256, archived_path = row
    template = template_for(form_id)
    if template is None:
        return None
    reasons: list[str] = []
    if field_name is not None:
        field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                         FieldValue.name == field_name)).one_or_none()
        reasons = review_repo.reasons_of(field) if field is not None else []
    return PageKey(sha256, archived_path, page, template.form_id), template, reasons


def waiting_forms(session, after: tuple | None = None, limit: int = SCAN_PAGE) -> list[tuple[tuple, WaitingForm]]:
    """Forms waiting for review in the queue's order (oldest first), `limit` of them after the queue position
    `after`, each with the position it holds."""
    from ledger import review_repo
    from ledger.models import FieldValue, Form, ScanFile
    from ledger.states import FormState
    from review.viewmodel import template_for

    query = (select(Form.id, Form.created_at, Form.form_id, Form.page, ScanFile.sha256, ScanFile.archived_path)
             .join(ScanFile, ScanFile.id == Form.scan_file_id)
             .where(Form.state == FormState.NEEDS_REVIEW).order_by(Form.created_at, Form.id).limit(limit))
    if after is not None:
        created_at, form_pk = after
        query = query.where((Form.created_at > created_at) | ((Form.created_at == created_at) & (Form.id > form_pk)))
    rows = session.execute(query).all()
    flagged: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    if rows:
        for field in session.scalars(select(FieldValue).where(FieldValue.form_pk.in_([row[0] for row in rows]),
                                                              FieldValue.status == review_repo.REVIEW)):
            flagged.setdefault(field.form_pk, []).append((field.name, tuple(review_repo.reasons_of(field))))
    found = []
    for form_pk, created_at, form_id, page, sha256, archived_path in rows:
        template = template_for(form_id)
        if template is None:
            continue
        key = PageKey(sha256, archived_path, page, template.form_id)
        found.append(((created_at, form_pk), WaitingForm(key, template, tuple(flagged.get(form_pk, [])))))
    return found


class PrerenderWorker:
    """One background thread that renders ahead every waiting form not yet rendered, the next in the queue first."""

    def __init__(self, engine, images: PageImages) -> None:
        self.engine = engine
        self.images = images
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed: set[str] = set()  # cache names that could not be rendered (scan missing): not retried

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="review-prerender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.render_waiting()
            except Exception:  # a ledger hiccup must not end the worker; the next pass tries again
                log.exception("先読み描画に失敗しました / pre-rendering pass failed")
            self._wake.wait(IDLE_SECONDS)

    def render_waiting(self) -> int:
        """One walk of the whole queue; returns how many forms it rendered."""
        from ledger.db import session_scope

        rendered, after = 0, None
        while not self._stop.is_set():
            with session_scope(self.engine, write=False) as session:
                page = waiting_forms(session, after)
            if not page:
                return rendered
            for position, form in page:
                after = position
                if self._stop.is_set():
                    return rendered
                if form.key.cache_name in self.failed or is_ready(self.images.cache_root, form.key):
                    continue
                try:
                    prerender(self.images, form)
                    rendered += 1
                except ImageUnavailable:
                    self.failed.add(form.key.cache_name)  # the form view says why when someone opens it
            if len(page) < SCAN_PAGE:
                return rendered
        return rendered
