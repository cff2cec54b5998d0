"""`taxintake serve`: the local Prefect server (SQLite under TAXINTAKE_HOME/prefect) and the office's deployments
served from this process: watch (every minute), enter-ready (every 5 minutes), nightly (02:00 Asia/Tokyo)."""
from __future__ import annotations

import argparse
import os

from taxintake.commands._prefect_env import quiet_prefect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address of the Prefect server and UI")
    parser.add_argument("--port", type=int, default=4200, help="port of the Prefect server and UI (default 4200)")
    parser.add_argument("--no-server", action="store_true",
                        help="use the Prefect server at PREFECT_API_URL instead of starting one")


def run(args: argparse.Namespace) -> int:
    from taxintake.config import load_settings
    from taxintake.prefect_server import start_prefect_server

    settings = load_settings()
    server = None
    if not args.no_server:
        os.environ.setdefault("PREFECT_HOME", str(settings.home / "prefect"))
        server = start_prefect_server(settings.home / "prefect", host=args.host, port=args.port)
        os.environ["PREFECT_API_URL"] = server.api_url
        print(f"Prefect UI: {server.url}")
    quiet_prefect()
    os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    try:
        from prefect import serve

        from flows.deployments import ensure_session_limit, runner_deployments

        settings.inbox.mkdir(parents=True, exist_ok=True)
        ensure_session_limit(settings.robot_sessions)
        print(f"受付箱 / inbox: {settings.inbox}   台帳 / ledger: {_safe(settings.ledger_url)}")
        serve(*runner_deployments())
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()
    return 0


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
