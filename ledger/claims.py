"""Claims of the dead: who holds a reader's files and a robot's forms, and letting go of them when the holder died.

Each process that claims work records itself (`ClaimHolder`: host, boot, pid and the pid's start time). A holder on
this machine whose process is gone (killed -9, crashed, the machine rebooted) gives its claims back at once: files
go back in the queue (counted as an attempt, so a file that kills its readers still ends FAILED), forms go back to
READY (the robot that takes them finds a form already typed in the legacy system by its key and does not type it
twice). A holder on another machine cannot be asked; its claims age out after the stale time, and `held_claims` says
what is held, by whom and since when, so a run that finds nothing to do says why.

Liveness is read from /proc on Linux (pid, start time, zombie state, boot id); elsewhere `os.kill(pid, 0)` says
whether the pid exists, without the start-time check against a reused pid.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.db import is_sqlite
from ledger.models import ClaimHolder, Form, IntakeFile
from ledger.states import FormState, transition, utc_now

READING = "READING"


@dataclass(frozen=True)
class HeldClaim:
    kind: str  # "files" (a reader's) or "forms" (a robot's)
    holder: str
    count: int
    since: datetime | None  # the oldest claim
    host: str | None
    pid: int | None
    alive: bool | None  # None: on another machine, cannot be told from here

    def describe(self) -> str:
        """One line for the operator, Japanese first."""
        what = "ファイル" if self.kind == "files" else "帳票"
        since = self.since.astimezone().strftime("%Y-%m-%d %H:%M:%S") if self.since else "?"
        where = f"{self.host} pid {self.pid}" if self.host else "登録なし / unregistered"
        state = {True: "稼働中 / running", False: "停止 / gone", None: "別のマシン（確認できません）/ another machine"}
        return (f"{what} {self.count} 件を {self.holder}（{where}、{state[self.alive]}）が {since} から保持中 / "
                f"{self.count} {self.kind} held by {self.holder} since {since}")


# ---- this process ------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def _process_started(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22: starttime in clock ticks since boot


def register_holder(session: Session, holder: str) -> None:
    """Record (or renew) that `holder` is this process on this machine; called by every claim."""
    values = dict(host=socket.gethostname(), boot_id=_boot_id(), pid=os.getpid(),
                  process_started=_process_started(os.getpid()), registered_at=utc_now())
    row = session.get(ClaimHolder, holder)
    if row is not None:
        if (row.host, row.boot_id, row.pid, row.process_started) != (values["host"], values["boot_id"],
                                                                      values["pid"], values["process_started"]):
            for key, value in values.items():
                setattr(row, key, value)
        return
    try:
        with session.begin_nested():
            session.add(ClaimHolder(holder=holder, **values))
    except IntegrityError:  # another process registered the same name a moment ago: it is ours now
        row = session.get(ClaimHolder, holder, populate_existing=True)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)


def holder_alive(row: ClaimHolder | None) -> bool | None:
    """True/False for a holder on this machine; None when it is elsewhere (or not registered)."""
    if row is None or row.host != socket.gethostname():
        return None
    if row.boot_id and _boot_id() and row.boot_id != _boot_id():
        return False  # the machine restarted since: every process of that boot is gone
    if row.pid == os.getpid():
        return True
    fields = _stat_fields(row.pid)
    if fields is not None:
        if fields[0] in ("Z", "X"):
            return False  # killed, not yet reaped by its parent
        return row.process_started is None or len(fields) <= 19 or fields[19] == row.process_started
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return not os.path.isdir("/proc/self")  # /proc exists but this pid is not in it: gone


# ---- what is held ------------------------------------------------------------------------------------------------

def held_claims(session: Session) -> list[HeldClaim]:
    """Every holder of READING files and ENTERING forms, with how many, since when, and whether it still lives."""
    rows = [("files", holder, count, since) for holder, count, since in session.execute(
                select(IntakeFile.claimed_by, func.count(IntakeFile.id), func.min(IntakeFile.claimed_at))
                .where(IntakeFile.state == READING).group_by(IntakeFile.claimed_by)).all()]
    rows += [("forms", holder, count, since) for holder, count, since in session.execute(
                select(Form.claimed_by, func.count(Form.id), func.min(Form.claimed_at))
                .where(Form.state == FormState.ENTERING).group_by(Form.claimed_by)).all()]
    held = []
    for kind, holder, count, since in rows:
        row = session.get(ClaimHolder, holder) if holder else None
        held.append(HeldClaim(kind, holder or "?", count, since, row.host if row else None,
                              row.pid if row else None, holder_alive(row)))
    return held


def dead_local_holders(session: Session) -> set[str]:
    """Holders of claims now held whose process on this machine is gone."""
    holders = set(session.scalars(select(IntakeFile.claimed_by).where(IntakeFile.state == READING).distinct()))
    holders |= set(session.scalars(select(Form.claimed_by).where(Form.state == FormState.ENTERING).distinct()))
    return {holder for holder in holders if holder and holder_alive(session.get(ClaimHolder, holder)) is False}


# ---- letting go --------------------------------------------------------------------------------------------------

def release_dead_reads(session: Session, max_attempts: int) -> int:
    """Put the READING files of readers that died on this machine back in the queue (FAILED after max_attempts)."""
    from ledger import repo

    repo._ensure_write_lock(session)
    dead = dead_local_holders(session)
    if not dead:
        return 0
    from ledger.intake_queue import put_back_reads  # the queue imports this module

    query = select(IntakeFile).where(IntakeFile.state == READING, IntakeFile.claimed_by.in_(sorted(dead)))
    return put_back_reads(session, query, max_attempts, lambda row: (
        f"読取処理が{row.attempts}回とも途中で止まりました（ファイルの破損の可能性）/ the reader died "
        f"{row.attempts} times on this file (last {row.claimed_by})"))


def release_dead_entries(session: Session) -> int:
    """Put the ENTERING forms of robots that died on this machine back to READY; returns how many."""
    from ledger import repo

    repo._ensure_write_lock(session)
    dead = dead_local_holders(session)
    if not dead:
        return 0
    query = select(Form).where(Form.state == FormState.ENTERING, Form.claimed_by.in_(sorted(dead))).order_by(Form.id)
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    released = 0
    for form in session.scalars(query.execution_options(populate_existing=True)).all():
        transition(session, form, FormState.READY, actor="system",
                   reason=f"claim by {form.claimed_by} released: its process on this machine is gone")
        released += 1
    session.flush()
    return released
