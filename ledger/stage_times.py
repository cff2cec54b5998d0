"""Recording how long a stage ran over a batch (read by the report as wall time per stage)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ledger.models import StageTime


def record_stage_time(session: Session, batch_id: int, stage: str, started_at: datetime, ended_at: datetime, *,
                      items: int | None = None, actor: str = "system") -> StageTime:
    """One row: `stage` ran from `started_at` to `ended_at` (timezone-aware) over `items` of batch `batch_id`."""
    if ended_at < started_at:
        raise ValueError(f"stage {stage!r} ends before it starts")
    row = StageTime(batch_id=batch_id, stage=stage, actor=actor, started_at=started_at, ended_at=ended_at,
                    seconds=(ended_at - started_at).total_seconds(), items=items)
    session.add(row)
    session.flush()
    return row
