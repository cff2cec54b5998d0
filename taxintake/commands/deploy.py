"""`taxintake deploy --pool P`: the same deployments as `serve`, registered on a process work pool at
PREFECT_API_URL; start one worker per machine with `prefect worker start --pool P`."""
from __future__ import annotations

import argparse
from pathlib import Path

from taxintake.commands._prefect_env import quiet_prefect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", default="taxintake", help="work pool name (created as a process pool if missing)")
    parser.add_argument("--source", type=Path, help="where the code lies on the workers (default: this checkout)")
    parser.add_argument("--paused", action="store_true", help="register the schedules paused")


def run(args: argparse.Namespace) -> int:
    quiet_prefect()
    from flows.deployments import REPO_ROOT, deploy_to_pool, ensure_process_pool, ensure_session_limit
    from taxintake.config import load_settings

    ensure_process_pool(args.pool)
    ensure_session_limit(load_settings().robot_sessions)
    ids = deploy_to_pool(args.pool, (args.source or REPO_ROOT).resolve(), paused=args.paused)
    print(f"{len(ids)} deployments on work pool {args.pool!r}; on each machine: "
          f"prefect worker start --pool {args.pool}")
    return 0
