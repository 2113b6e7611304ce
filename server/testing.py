"""Servers for tests and benchmarks: the endpoint under gunicorn, an Oxigraph server, a loopback listener.

Each binds a free loopback port, waits a bounded time for readiness, and is always stopped (the
context managers end their process group on exit, whatever happened inside).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not answering {url} after {STARTUP_SECONDS} s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def running_process(command: list[str], ready_url: str, log: Path, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """``command`` in its own process group, once ``ready_url`` answers; the whole group is ended after."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_until_up(ready_url, process, log)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@contextlib.contextmanager
def running_endpoint(build_dir: Path, log: Path, workers: int = 2, threads: int = 4,
                     settings: dict[str, str] | None = None) -> Iterator[str]:
    """The endpoint under gunicorn, configured as ``make run``; yields its /sparql URL."""
    port = free_port()
    env = {**os.environ, "EXOKG_DATA": str(build_dir), **(settings or {})}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--config", "python:exokg.server.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads)]
    with running_process(command, f"http://127.0.0.1:{port}/health", log, env):
        yield f"http://127.0.0.1:{port}/sparql"


def oxigraph_command() -> str | None:
    """The Oxigraph server program (PyPI ``oxigraph``), or None when it is not installed."""
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.exists() else shutil.which("oxigraph")


@contextlib.contextmanager
def running_oxigraph(log: Path, data: Path | None = None, location: Path | None = None) -> Iterator[str]:
    """An Oxigraph server on loopback (loaded with ``data`` into ``location`` first); yields its base URL."""
    program = oxigraph_command()
    if program is None:
        raise RuntimeError("the oxigraph server is not installed (pip install oxigraph)")
    port = free_port()
    command = [program, "serve", "--bind", f"127.0.0.1:{port}"]
    if data is not None:
        location = location or data.parent / "oxigraph-db"
        subprocess.run([program, "load", "--location", str(location), "--file", str(data)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        command = [program, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                   "--union-default-graph"]
    with running_process(command, f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", log):
        yield f"http://127.0.0.1:{port}"


class LoopbackListener:
    """A TCP listener on 127.0.0.1 that records every connection made to it (and answers nothing).

    Read :attr:`connections` after :meth:`settle`, which makes sure every connection attempted
    before it has been counted (connections are accepted in order).
    """

    def __init__(self):
        self._accepted: list[int] = []  # the client port of each accepted connection
        self._markers: set[int] = set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(conn.getpeername()[1])
            conn.close()

    def settle(self, seconds: float = 30.0) -> int:
        """The number of connections made so far, once all of them have been accepted."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=seconds) as marker:
            port = marker.getsockname()[1]
            self._markers.add(port)
            deadline = time.monotonic() + seconds
            while port not in self._accepted:
                if time.monotonic() > deadline:
                    raise RuntimeError("the listener did not accept its own marker connection")
                time.sleep(0.01)
        return sum(1 for p in self._accepted if p not in self._markers)

    @property
    def connections(self) -> int:
        return self.settle()

    def __enter__(self) -> "LoopbackListener":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()
