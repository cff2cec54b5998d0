"""The deployments of the office's day, one list for both ways of running them.

- one machine: `taxintake serve` serves them from its own process against the local Prefect server;
- several machines: `taxintake deploy --pool P` registers the same deployments on a work pool, and a worker on
  each machine (`prefect worker start --pool P`) runs whichever flow run comes next.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron, Interval, Schedule

from flows.enter_ready import enter_ready
from flows.intake import intake, read_queued
from flows.nightly import nightly
from flows.watch import watch

REPO_ROOT = Path(__file__).resolve().parent.parent
NIGHTLY_CRON = Cron("0 2 * * *", timezone="Asia/Tokyo")
WATCH_EVERY = timedelta(minutes=1)
ENTER_EVERY = timedelta(minutes=5)
DEPLOYMENT_NAME = "taxintake"
READ_DEPLOYMENT = f"read-queue/{DEPLOYMENT_NAME}"


@dataclass(frozen=True)
class DeploymentSpec:
    flow: Flow[..., Any]
    entrypoint: str  # path:function, relative to the repository root
    schedule: Schedule | None
    description: str
    concurrency_limit: ConcurrencyLimitConfig | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


# One run at a time; a run due while one is still busy is dropped, not queued (the busy one takes the inbox anyway).
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployment_specs() -> list[DeploymentSpec]:
    return [
        DeploymentSpec(watch, "flows/watch.py:watch", Interval(WATCH_EVERY),
                       "受付箱を見て、そろったスキャンを一つのバッチで読む / read a complete inbox drop as one batch",
                       concurrency_limit=ONE_AT_A_TIME),
        DeploymentSpec(enter_ready, "flows/enter_ready.py:enter_ready", Interval(ENTER_EVERY),
                       "READY の帳票を基幹システムへ入力 / enter READY forms into the legacy system"),
        DeploymentSpec(nightly, "flows/nightly.py:nightly", NIGHTLY_CRON,
                       "毎晩 02:00: 受付箱 → 入力 → 報告 / nightly: inbox, entry, report",
                       concurrency_limit=ONE_AT_A_TIME),
        DeploymentSpec(intake, "flows/intake.py:intake", None,
                       "フォルダのスキャンを一つのバッチで読む / read a folder's scans as one batch"),
        DeploymentSpec(read_queued, "flows/intake.py:read_queued", None,
                       "待ちのファイルを読む（他のマシンの応援）/ read queued files (helps a batch from another machine)"),
    ]


def runner_deployments() -> list[Any]:
    """For `prefect.serve`: this process runs the flow runs."""
    return [spec.flow.to_deployment(DEPLOYMENT_NAME, schedule=spec.schedule, description=spec.description,
                                    concurrency_limit=spec.concurrency_limit, parameters=spec.parameters)
            for spec in deployment_specs()]


def deploy_to_pool(pool: str, source: Path = REPO_ROOT, *, paused: bool = False,
                   job_variables: dict[str, Any] | None = None) -> list[str]:
    """Register the deployments on work pool `pool`; each worker runs them from `source` (the code on that machine)."""
    ids = []
    for spec in deployment_specs():
        flow = spec.flow.from_source(source=str(source), entrypoint=spec.entrypoint)
        deployment_id = flow.deploy(DEPLOYMENT_NAME, work_pool_name=pool, schedule=spec.schedule,
                                    description=spec.description, concurrency_limit=spec.concurrency_limit,
                                    parameters=spec.parameters, build=False, push=False, paused=paused,
                                    job_variables=job_variables or {}, print_next_steps=False,
                                    ignore_warnings=True)
        ids.append(str(deployment_id))
    return ids


def ensure_session_limit(slots: int) -> None:
    """The legacy system's licensed sessions as a global concurrency limit, shared by every machine's runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    from flows.enter_ready import LEGACY_SESSIONS_LIMIT

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(LEGACY_SESSIONS_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=LEGACY_SESSIONS_LIMIT,
                                                                                limit=slots))
            return
        client.update_global_concurrency_limit(LEGACY_SESSIONS_LIMIT,
                                               GlobalConcurrencyLimitUpdate(limit=slots, active=True))


def ensure_process_pool(name: str) -> None:
    """A process work pool named `name` (created if missing): each worker runs flow runs as local processes."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
