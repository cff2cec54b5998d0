"""Start a Prefect server as a child process and wait until it answers (no Prefect import here: the caller sets
`PREFECT_API_URL` from the returned URL before Prefect is imported)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PrefectServer:
    process: subprocess.Popen
    url: str  # the UI; the API is under /api

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_prefect_server(home: Path, *, host: str = "127.0.0.1", port: int | None = None,
                         database_url: str | None = None, log_path: Path | None = None,
                         timeout_s: float = 180.0) -> PrefectServer:
    """`prefect server start` with its state in `home` (SQLite there, or `database_url`, e.g. PostgreSQL)."""
    port = port or free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true")}
    env.pop("PREFECT_API_URL", None)
    # The UI's own calls go to this server's API (its default is port 4200 whatever the port).
    env["PREFECT_UI_API_URL"] = env["PREFECT_SERVER_UI_API_URL"] = f"http://{host}:{port}/api"
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    log = (log_path or home / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", host,
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return PrefectServer(process, url)
        except OSError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"the Prefect server did not answer within {timeout_s:.0f} s; see {log.name}")
