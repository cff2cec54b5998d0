"""Sign-in throttling per account and per address, kept in the audit trail (so every failure and lock is audited,
and every process of the review page sees the same counts).

After `free_failures` failures in a row a further attempt must wait, the wait doubling with each failure; after
`lock_after` the account (or the address) is locked for `lock_for`. A locked or waiting attempt is refused without
looking at the password. An admin lifts a lock (`/admin/locks`, or `taxintake user unlock NAME`). An address gets
twice the account's allowance: several people sign in from one office address.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import append_audit
from ledger.models import AuditEntry
from ledger.states import utc_now

FAILED = "auth.login_failed"
REFUSED = "auth.login_refused"  # refused while waiting or locked; the password was not looked at
SIGNED_IN = "auth.login"
LOCKED = "auth.locked"
UNLOCKED = "auth.unlocked"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
_DIGITS_ONLY = re.compile(r"\d{12,13}")


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    base_delay: timedelta = timedelta(seconds=1)
    lock_after: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=24)  # failures older than this are forgotten
    address_factor: int = 2


def account_key(name: str) -> str:
    """The account as the audit names it: the typed name when it could be one (never a 12- or 13-digit number,
    which could be a 個人番号 typed in the wrong box), else '?'."""
    name = (name or "").strip()
    return name if _NAME.fullmatch(name) and not _DIGITS_ONLY.fullmatch(name) else "?"


def _subjects(account: str, address: str) -> tuple[str, str]:
    return f"user:{account}", f"address:{address}"


@dataclass(frozen=True)
class Refusal:
    message: str
    locked: bool
    retry_after_seconds: int


def _history(session: Session, subject: str, since: datetime) -> list[AuditEntry]:
    attempt_subject = subject  # failures and successes carry both keys in `after`; locks name one subject
    kind, _, key = subject.partition(":")
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.at >= since, AuditEntry.action.in_((FAILED, SIGNED_IN, LOCKED, UNLOCKED)))
        .order_by(AuditEntry.id))
    found = []
    for row in rows:
        if row.action in (LOCKED, UNLOCKED):
            if row.subject == attempt_subject:
                found.append(row)
            continue
        after = json.loads(row.after or "{}")
        if (kind == "user" and row.subject == subject) or (kind == "address" and after.get("address") == key):
            found.append(row)
    return found


@dataclass(frozen=True)
class _State:
    failures: int
    last_failure: datetime | None
    locked_until: datetime | None


def _state(session: Session, subject: str, policy: ThrottlePolicy, now: datetime) -> _State:
    failures, last_failure, locked_until = 0, None, None
    is_address = subject.startswith("address:")
    for row in _history(session, subject, now - policy.window):
        if row.action == FAILED:
            failures, last_failure = failures + 1, row.at
        elif row.action == SIGNED_IN and not is_address:
            failures, last_failure = 0, None
        elif row.action == LOCKED:
            locked_until = datetime.fromisoformat(json.loads(row.after)["until"])
            failures, last_failure = 0, None  # after the lock runs out the count starts again
        elif row.action == UNLOCKED:
            failures, last_failure, locked_until = 0, None, None
    return _State(failures, last_failure, locked_until if locked_until and locked_until > now else None)


def _limits(policy: ThrottlePolicy, subject: str) -> tuple[int, int]:
    factor = policy.address_factor if subject.startswith("address:") else 1
    return policy.free_failures * factor, policy.lock_after * factor


def check(session: Session, name: str, address: str, policy: ThrottlePolicy, now: datetime | None = None
          ) -> Refusal | None:
    """Whether a sign-in attempt may be tried now; a refusal is audited."""
    now = now or utc_now()
    account = account_key(name)
    for subject in _subjects(account, address):
        state = _state(session, subject, policy, now)
        what = "この利用者名" if subject.startswith("user:") else "この端末（アドレス）"
        if state.locked_until is not None:
            wait = int((state.locked_until - now).total_seconds()) + 1
            refusal = Refusal(f"{what}はサインインの失敗が続いたためロックされています。約{-(-wait // 60)}分後に"
                              f"もう一度試すか、管理者にロックの解除を依頼してください / locked after repeated "
                              f"failures", True, wait)
        else:
            free, _ = _limits(policy, subject)
            if state.failures < free or state.last_failure is None:
                continue
            delay = policy.base_delay * (2 ** (state.failures - free))
            ready_at = state.last_failure + delay
            if now >= ready_at:
                continue
            wait = max(1, int((ready_at - now).total_seconds() + 0.999))
            refusal = Refusal(f"サインインの失敗が続いています。{wait}秒待ってからもう一度入力してください / "
                              f"too many failures: wait {wait} s", False, wait)
        append_audit(session, actor="anonymous", action=REFUSED, subject=f"user:{account}",
                     after={"address": address, "locked": refusal.locked, "by": subject.partition(":")[0]})
        return refusal
    return None


def record_failure(session: Session, name: str, address: str, policy: ThrottlePolicy,
                   now: datetime | None = None) -> bool:
    """Audit a failed attempt; lock the account or the address that reached its limit. Returns whether it locked."""
    now = now or utc_now()
    account = account_key(name)
    append_audit(session, actor="anonymous", action=FAILED, subject=f"user:{account}", after={"address": address})
    session.flush()
    locked = False
    for subject in _subjects(account, address):
        state = _state(session, subject, policy, now)
        _, lock_after = _limits(policy, subject)
        if state.locked_until is None and state.failures >= lock_after:
            append_audit(session, actor="system", action=LOCKED, subject=subject,
                         after={"until": (now + policy.lock_for).isoformat(), "failures": state.failures})
            locked = True
    return locked


def record_success(session: Session, name: str, address: str) -> None:
    append_audit(session, actor=account_key(name), action=SIGNED_IN, subject=f"user:{account_key(name)}",
                 after={"address": address})


@dataclass(frozen=True)
class Lock:
    subject: str
    until: datetime

    @property
    def label(self) -> str:
        kind, _, key = self.subject.partition(":")
        return f"利用者 {key}" if kind == "user" else f"アドレス {key}"


def current_locks(session: Session, policy: ThrottlePolicy, now: datetime | None = None) -> list[Lock]:
    now = now or utc_now()
    subjects = sorted(set(session.scalars(select(AuditEntry.subject).where(
        AuditEntry.action == LOCKED, AuditEntry.at >= now - policy.lock_for - timedelta(minutes=1)))))
    locks = []
    for subject in subjects:
        until = _state(session, subject, policy, now).locked_until
        if until is not None:
            locks.append(Lock(subject, until))
    return locks


def unlock(session: Session, subject: str, admin: str) -> None:
    if not (subject.startswith("user:") or subject.startswith("address:")):
        raise ValueError("ロックの対象が不正です / not a lock subject")
    append_audit(session, actor=admin, action=UNLOCKED, subject=subject)
