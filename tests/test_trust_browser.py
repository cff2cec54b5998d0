"""A blind audit entry on the review page, in real Debian chromium: an auto-accepted field drawn for an audit sample
is typed without the reading in view; the first person's value disagrees with the reading, so the form stays back
from entry until a second person agrees with it, and the sample is settled as an accepted field that was wrong."""
from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from flows.archive import archive_scan
from ledger import repo
from ledger.db import session_scope
from ledger.models import AuditEntry, AuditSample, BlindEntry, FieldValue
from ledger.states import FormState
from ledger.trust import AuditSampler, trust_by_kind
from ledger.values import decode_value
from review_scenario import flagged_copy
from test_review_browser import browser, focused_field, form_state, scans, shared_dirs, sign_in, site_factory  # noqa: F401

pytestmark = pytest.mark.browser

FIELD = "shiharaisha_denwa"
TRUE_PHONE, MISREAD_PHONE = "090-0309-6284", "090-0309-6234"


def test_an_audit_sample_is_entered_blind_and_a_disagreement_holds_the_form_for_a_second_person(
        browser, site_factory, scans):  # noqa: F811
    site = site_factory()
    kyuyo = scans["kyuyo"]
    # Everything the reader read is accepted; the phone was misread at a score the reader trusted.
    result = flagged_copy(kyuyo.result, {}, values={FIELD: MISREAD_PHONE})
    archived = archive_scan(kyuyo.path, site.archive)
    with session_scope(site.engine) as session:
        batch = repo.create_batch(session, label="audit", source=str(kyuyo.path.parent))
        scan_file, _ = repo.register_scan_file(session, batch, kyuyo.path.name, archived.relative_path,
                                               archived.sha256, 1)
        sampler = AuditSampler(0.0, {"phone": 1.0}, rng=random.Random(1))
        form = repo.record_read_result(session, batch, scan_file, result, audit_sampler=sampler)
        form_pk, batch_id = form.id, batch.id
        assert form.state == FormState.NEEDS_REVIEW

    first = browser.new_context()
    page = first.new_page()
    sign_in(page, site, "suzuki", start=f"/forms/{form_pk}")
    row = page.locator(f"#field-{FIELD}")
    assert row.get_attribute("data-mode") == "audit_sample"
    assert "抜き取り検査" in row.inner_text()
    assert MISREAD_PHONE not in page.content() and page.locator("input.value").input_value() == ""  # blind
    assert focused_field(page) == FIELD
    page.keyboard.type(TRUE_PHONE)
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    first.close()
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW  # the disagreement keeps it from entry

    second = browser.new_context()
    page = second.new_page()
    sign_in(page, site, "tanaka", start=f"/forms/{form_pk}")
    assert page.locator(f"#field-{FIELD}").get_attribute("data-mode") == "second"
    assert MISREAD_PHONE not in page.content()
    page.keyboard.type(TRUE_PHONE)
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    second.close()

    assert form_state(site, form_pk) == FormState.READY
    with site.session() as session:
        entries = list(session.scalars(select(BlindEntry).where(BlindEntry.form_pk == form_pk).order_by(BlindEntry.id)))
        assert [(e.user_name, e.mode, e.outcome) for e in entries] == [
            ("suzuki", "audit_sample", "mismatch"), ("tanaka", "audit_sample", "matched_entry")]
        field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk, FieldValue.name == FIELD)).one()
        assert decode_value(field.corrected_value) == TRUE_PHONE  # the form proceeds on the agreed value
        sample = session.scalars(select(AuditSample).where(AuditSample.form_pk == form_pk)).one()
        assert (sample.field_name, sample.outcome, sample.decided_by) == (FIELD, "disagreed", "tanaka")
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if a.action != "state_change"]  # every transition has its own row too
        assert actions.count("audit_sample.draw") == 1 and actions[-2:] == ["review.blind_match", "audit_sample.disagreed"]
        assert "review.blind_mismatch" in actions
        (trust,) = trust_by_kind(session, batch_id=batch_id)
        assert (trust.kind, trust.settled, trust.disagreed, trust.warning) == ("phone", 1, 1, True)
        assert json.loads(next(a.after for a in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "audit_sample.disagreed"))))["value"] == TRUE_PHONE
