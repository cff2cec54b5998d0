"""A small real cluster for the scale-out and crash tests: a Prefect server, a process work pool, workers as separate
processes (each its own process group, so that kill -9 takes the worker and the flow run it started), the ledger
on PostgreSQL, legacy_sim, and a shared folder standing in for the scans' shared storage."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from flows.deployments import REPO_ROOT
from ledger.db import make_engine, session_scope
from ledger.models import Form, IntakeFile

POOL = "taxintake-test"


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    def kill_hard(self) -> None:
        """kill -9 of the worker and everything it started (the flow run and its readers)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill_hard()


@dataclass
class Cluster:
    api_url: str
    home: Path  # TAXINTAKE_HOME shared by every worker: inbox, archive, results (the shared storage)
    ledger_url: str
    legacy_url: str
    legacy_db: Path
    workers: list[Worker] = field(default_factory=list)

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    def start_worker(self, name: str, *, cores: int = 1) -> Worker:
        env = {**os.environ, "PREFECT_API_URL": self.api_url, "TAXINTAKE_HOME": str(self.home),
               "TAXINTAKE_LEDGER_URL": self.ledger_url, "TAXINTAKE_LEGACY_URL": self.legacy_url,
               "TAXINTAKE_WORKER_ID": name, "TAXINTAKE_WORKERS": str(cores), "PREFECT_LOGGING_LEVEL": "INFO",
               "PYTHONPATH": str(REPO_ROOT), "PREFECT_WORKER_QUERY_SECONDS": "2"}
        log = self.home / f"worker-{name}-{len(self.workers)}.log"
        # --limit 1: a worker takes one flow run at a time, so a second run goes to the other worker.
        process = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL,
                                    "--name", name, "--limit", "1"], cwd=REPO_ROOT, env=env,
                                   stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()

    def logs(self) -> str:
        return "\n".join(f"--- {w.log.name}\n{w.log.read_text(errors='replace')[-4000:]}" for w in self.workers)

    def queue_states(self) -> dict[str, int]:
        engine = make_engine(self.ledger_url)
        try:
            with session_scope(engine, write=False) as session:
                return dict(session.execute(select(IntakeFile.state, func.count()).group_by(IntakeFile.state)).all())
        finally:
            engine.dispose()

    def form_states(self) -> dict[str, int]:
        engine = make_engine(self.ledger_url)
        try:
            with session_scope(engine, write=False) as session:
                return {str(state): count for state, count in
                        session.execute(select(Form.state, func.count()).group_by(Form.state)).all()}
        finally:
            engine.dispose()

    def form_ids(self, state: str) -> set[int]:
        engine = make_engine(self.ledger_url)
        try:
            with session_scope(engine, write=False) as session:
                return set(session.scalars(select(Form.id).where(Form.state == state)))
        finally:
            engine.dispose()

    def legacy_records(self) -> list[sqlite3.Row]:
        if not self.legacy_db.exists():
            return []
        with sqlite3.connect(self.legacy_db) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute("SELECT * FROM ido_todoke ORDER BY id").fetchall()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, cluster: Cluster,
               poll_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in cluster.workers:
            if worker.process.poll() is not None and worker.process.returncode not in (-9, None):
                raise AssertionError(f"worker {worker.name} exited ({worker.process.returncode})\n{cluster.logs()}")
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}: queue {cluster.queue_states()}, forms "
                         f"{cluster.form_states()}\n{cluster.logs()}")


def run_deployment_now(name: str, parameters: dict | None = None) -> str:
    """Start a flow run of deployment `name` on the pool and return at once (the workers pick it up)."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name, parameters=parameters or {}, timeout=0, as_subflow=False)
    return str(flow_run.id)


def flow_run_states(ids: list[str]) -> list[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return [client.read_flow_run(run_id).state.type.value for run_id in ids]
