"""`make dev`'s server in a subprocess, shared by the e2e suites; each test that stops a server starts its own."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120


@dataclass
class DevServer:
    base_url: str
    ws_url: str
    api_key: str
    process: subprocess.Popen[str]
    log_path: Path
    log: IO[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_dev_server(log_dir: Path) -> DevServer:
    """Start `python -m stratus.local.devserver` on a free port; return once /health answers and the key is printed."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers/common"), str(REPO / "functions"), str(REPO)]),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = log_dir / "out.log"
    log = log_path.open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "stratus.local.devserver", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    api_key = None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        match = re.search(r"export STRATUS_API_KEY=(\S+)", log_path.read_text())
        if match:
            api_key = match.group(1)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                pass
        time.sleep(0.2)
    if api_key is None or process.poll() is not None:
        process.kill()
        log.close()
        pytest.fail(f"dev server did not start:\n{log_path.read_text()[-4000:]}")
    return DevServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", api_key, process, log_path, log)


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One running dev server for every e2e test that only talks to it."""
    server = start_dev_server(tmp_path_factory.mktemp("devserver"))
    yield server
    server.stop()
