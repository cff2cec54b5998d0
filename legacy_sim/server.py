"""legacy_sim: the stand-in legacy tax web system (`taxintake legacy-sim`), and helpers to run it in tests."""
from __future__ import annotations

import argparse
import json
import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from legacy_sim import accounts, registers
from legacy_sim.db import connect, init_db
from legacy_sim.faults import FaultInjector, parse_fault_spec
from legacy_sim.pages import SimContext, router
from legacy_sim.rendering import render
from legacy_sim.settings import DEV_ROBOT_PASSWORD, DEV_ROBOT_USER, SimSettings
from samples.population import POPULATION_SEED

log = logging.getLogger("taxintake.legacy_sim")

DEFAULT_DB = Path("var/legacy_sim.sqlite3")
_FAULT_FREE_PATHS = frozenset({"/favicon.ico"})


def _install_fault_middleware(app: FastAPI, faults: FaultInjector) -> None:
    @app.middleware("http")
    async def inject_faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path in _FAULT_FREE_PATHS:
            return await call_next(request)
        if faults.in_maintenance(datetime.now()):
            window = faults.spec.maintenance
            assert window is not None
            message = (f"ただいま夜間バッチ処理中のため、オンライン業務はご利用いただけません"
                       f"（{window.start:%H:%M}～{window.end:%H:%M}）。")
            return render("maintenance.html", status_code=503, title="夜間バッチ処理中", screen_id="SYS0503",
                          message=message)
        if faults.unavailable(f"{request.method} {request.url.path}"):
            return render("unavailable.html", status_code=503,
                          message="The server is temporarily unable to service your request. Please try again later.")
        delay = faults.delay_seconds(f"{request.method} {request.url.path}")
        if delay:
            await asyncio.sleep(delay)
        return await call_next(request)


def create_app(db_path: Path, settings: SimSettings) -> FastAPI:
    """The app over its own SQLite file, with the robot account seeded (or its password updated)."""
    init_db(db_path)
    with connect(db_path) as conn:
        for user, password, role in settings.accounts():
            display_name = "RPAロボット" if role == "robot" else "課税課職員"
            accounts.upsert_user(conn, user, f"{display_name}（{user}）", password, role)
        registers.seed_registers(conn, settings.population_seed)
    app = FastAPI(title="住民税課税システム (legacy_sim)", docs_url=None, redoc_url=None, openapi_url=None)
    faults = FaultInjector(settings.faults, settings.seed)
    app.state.sim = SimContext(db_path=db_path, settings=settings, faults=faults)
    _install_fault_middleware(app, faults)
    app.include_router(router)
    return app


@dataclass
class RunningSim:
    base_url: str
    app: FastAPI
    db_path: Path
    stop: Callable[[], None]

    @property
    def fault_counts(self) -> dict[str, int]:
        return dict(self.app.state.sim.faults.counts)


def serve_in_thread(db_path: Path, settings: SimSettings, host: str = "127.0.0.1") -> RunningSim:
    """Start uvicorn on a free port in a daemon thread; returns when it accepts connections."""
    app = create_app(db_path, settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"legacy-sim-{port}", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.025)
    if not server.started:
        raise RuntimeError("legacy_sim did not start")

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return RunningSim(base_url=f"http://{host}:{port}", app=app, db_path=db_path, stop=stop)


@contextmanager
def running_sim(db_path: Path, settings: SimSettings | None = None) -> Iterator[RunningSim]:
    sim = serve_in_thread(db_path, settings or SimSettings.from_env())
    try:
        yield sim
    finally:
        sim.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--faults", default="",
                        help='fault spec, e.g. "503=0.1,slow=0.05:3,expire=60,lock=0.02,maintenance=02:00-03:00"')
    parser.add_argument("--log-level", default="info", help="uvicorn's log level (default info)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault RNG, to replay a run")
    parser.add_argument("--idle-timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="log a session out after this many idle seconds (default 1800)")
    parser.add_argument("--robot-accounts", type=int, default=4, metavar="N",
                        help="robot accounts robot01…robotNN, one session each (default 4: the licence limit)")
    parser.add_argument("--population-seed", type=int, default=POPULATION_SEED,
                        help=f"seed of the taxpayer and corporation registers (default {POPULATION_SEED}, "
                             "the sample generator's)")


def run(args: argparse.Namespace) -> int:
    try:
        faults = parse_fault_spec(args.faults)
    except ValueError as error:
        print(f"legacy-sim: {error}")
        return 2
    settings = replace(SimSettings.from_env(), faults=faults, seed=args.seed,
                       idle_timeout_seconds=args.idle_timeout, robot_accounts=max(1, args.robot_accounts),
                       population_seed=args.population_seed)
    app = create_app(args.db, settings)
    dev_account = settings.robot_user == DEV_ROBOT_USER and settings.robot_password == DEV_ROBOT_PASSWORD
    print(f"legacy-sim: http://{args.host}:{args.port}/  db={args.db}  faults={args.faults or 'none'}")
    if dev_account:
        print(f"legacy-sim: robot accounts robot01…robot{settings.robot_accounts:02d} have the development default "
              "passwords (dev only)")

    def report_faults() -> None:
        counts = dict(app.state.sim.faults.counts)
        print(f"legacy-sim: faults injected: {json.dumps(counts, sort_keys=True)}", flush=True)

    app.router.add_event_handler("shutdown", report_faults)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
