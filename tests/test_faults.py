"""Faults the endpoint and the build survive: a gunicorn worker or a query process killed mid-query, a
missing or corrupt build at start (a clear error and a non-zero exit, never a half-working server),
and a build that dies half way (full disk, SIGKILL), which leaves the previous outputs as they were.

Atomicity for a broken curated row is tested in tests/test_build.py; these add the faults from outside.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from exokg import build as build_module
from exokg.build import write_atomically
from exokg.server.app import create_app
from exokg.server.store import STORE_DIR
from exokg.server.testing import free_port, running_process
from exokg.server.workers import close_pool

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^12 solutions: never ends
LIGHT = "ASK {{ ?f a exo:TableFinding }} # {}"  # a distinct text each time, so no cache answers it
BOUND = 60  # seconds any single wait below may take before the test fails instead of hanging


def _wait_for(condition, what: str, seconds: float = BOUND):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {seconds} s")


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def get(url: str, query: str | None = None, timeout: float = BOUND) -> tuple[int, bytes]:
    if query is not None:
        url += "?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:  # closes its connection
            return exc.code, exc.read()


@contextlib.contextmanager
def gunicorn(build_dir: Path, log: Path, workers: int, settings: dict[str, str]):
    port = free_port()
    env = {**os.environ, "EXOKG_DATA": str(build_dir), **settings}
    program = Path(sys.executable).with_name("gunicorn")
    command = [str(program), "--config", "python:exokg.server.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", "4"]
    with running_process(command, f"http://127.0.0.1:{port}/health", log, env) as master:
        yield master, f"http://127.0.0.1:{port}"


# --- a gunicorn worker killed mid-query -------------------------------------------------------------------

def test_worker_killed_mid_query_is_replaced(build_dir, tmp_path):
    with gunicorn(build_dir, tmp_path / "gunicorn.log", 2, {"EXOKG_QUERY_TIMEOUT": "60"}) as (master, base):
        workers = _wait_for(lambda: children(master.pid) if len(children(master.pid)) == 2 else None, "two workers")
        outcomes = []

        def heavy():
            try:
                outcomes.append(get(base + "/sparql", HEAVY, timeout=BOUND)[0])
            except OSError as exc:  # the worker died under the request: the connection drops
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=heavy) for _ in range(2)]
        for thread in threads:
            thread.start()
        # mid-query: some worker has a query process running the heavy query
        running = _wait_for(lambda: {p for w in workers for p in children(w)}, "a query process started")
        time.sleep(0.5)
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        for thread in threads:
            thread.join(BOUND)
        assert not any(t.is_alive() for t in threads) and len(outcomes) == 2
        assert 200 not in outcomes and 500 not in outcomes, outcomes

        replaced = _wait_for(lambda: children(master.pid) if len(children(master.pid) - workers) == 2 else None,
                             "two new workers")
        assert not replaced & workers
        statuses = [get(base + "/sparql", LIGHT.format(n))[0] for n in range(10)]
        assert statuses == [200] * 10
        health = json.loads(get(base + "/health")[1])
        assert health["status"] == "ok"
        # the killed workers' query processes do not run on, orphaned, burning a core
        _wait_for(lambda: not any(alive(p) for p in running), "orphaned query processes gone", seconds=30)


@pytest.mark.parametrize("memory_triples", ["0", "2000000"], ids=["disk", "memory"])
def test_workers_shut_down_cleanly(build_dir, tmp_path, memory_triples):
    """SIGTERM ends every worker normally: none dies of a signal (RocksDB opened in the master before the
    fork made each worker crash with SIGSEGV at exit; the in-memory store is made before the fork)."""
    log = tmp_path / "gunicorn.log"
    with gunicorn(build_dir, log, 2, {"EXOKG_MEMORY_TRIPLES": memory_triples}) as (master, base):
        assert [get(base + "/sparql", LIGHT.format(n))[0] for n in range(4)] == [200] * 4
        master.send_signal(signal.SIGTERM)
        assert master.wait(timeout=BOUND) == 0
    text = log.read_text()
    assert "Worker exiting" in text and "was sent SIG" not in text, text[-2000:]


# --- a query process killed --------------------------------------------------------------------------------

def test_killed_query_processes_are_replaced(build_dir):
    app = create_app({"EXOKG_DATA": str(build_dir), "EXOKG_QUERY_PROCESSES": "2", "EXOKG_QUERY_TIMEOUT": "10"})
    try:
        client = app.test_client()
        assert client.get("/sparql", query_string={"query": LIGHT.format("first")}).status_code == 200
        before = client.get("/health").get_json()["query_processes"]["pids"]
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: not any(alive(p) for p in before), "query processes dead")
        answers = [client.get("/sparql", query_string={"query": LIGHT.format(n)}) for n in range(6)]
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {200, 503} and statuses.count(503) <= len(before), statuses
        assert all(b"without answering" in a.data for a in answers if a.status_code == 503)
        assert statuses[-3:] == [200, 200, 200]
        health = client.get("/health")
        assert health.status_code == 200 and set(health.get_json()["query_processes"]["pids"]) - set(before)
    finally:
        close_pool(app)


# --- a missing or corrupt build at start -----------------------------------------------------------------------

def _remove_store(d: Path) -> None:
    shutil.rmtree(d / STORE_DIR, ignore_errors=True)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _scramble_store(d: Path) -> None:
    for path in (d / STORE_DIR).iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage\x00" * 10)


# The empty dataset, the empty VoID and the corrupt store were served (or a traceback) until server/store.py
# was fixed after these tests found them.
DAMAGE = [  # (case, damage done to a copy of the build, words of the expected error)
    ("no build directory at all", lambda d: shutil.rmtree(d), "exokg build"),
    ("an empty build directory", lambda d: [shutil.rmtree(d), d.mkdir()], "exokg build"),
    ("no VoID", lambda d: (d / "void.ttl").unlink(), "void.ttl"),
    ("a VoID that is not Turtle", lambda d: (d / "void.ttl").write_bytes(b"@prefix x <oops"), "void.ttl"),
    ("an empty VoID", lambda d: (d / "void.ttl").write_bytes(b""), "void.ttl"),
    ("no dataset", lambda d: [_remove_store(d), (d / "exokg.trig").unlink()], "exokg.trig"),
    ("a truncated dataset", lambda d: [_remove_store(d), _truncate(d / "exokg.trig")], "exokg.trig"),
    ("a dataset of random bytes", lambda d: [_remove_store(d), (d / "exokg.trig").write_bytes(os.urandom(4096))], "exokg.trig"),
    ("an empty dataset", lambda d: [_remove_store(d), (d / "exokg.trig").write_bytes(b"")], "exokg.trig"),
    ("an empty Oxigraph store", lambda d: [_remove_store(d), (d / STORE_DIR).mkdir()], STORE_DIR),
    ("a corrupt Oxigraph store", _scramble_store, STORE_DIR),
]
DAMAGE_IDS = [c[0] for c in DAMAGE]


@pytest.fixture()
def damaged(build_dir, tmp_path, request):
    _case, damage, words = request.param
    data = tmp_path / "build"
    shutil.copytree(build_dir, data)
    damage(data)
    return data, words


def _start(launcher: str, data: Path, log: Path) -> subprocess.CompletedProcess:
    port = str(free_port())
    if launcher == "exokg serve":
        command = [sys.executable, "-m", "exokg", "serve", "--data", str(data), "--port", port, "--workers", "1"]
    else:
        command = [str(Path(sys.executable).with_name("gunicorn")), "--config", "python:exokg.server.gunicorn_conf",
                   "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    env = {**os.environ, "EXOKG_DATA": str(data)}
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_for(lambda: server.poll() is not None or _answers(f"http://127.0.0.1:{port}/health"),
                  f"{launcher} exiting or serving")
        assert server.poll() is not None, f"{launcher} started serving a damaged build ({data})"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # with any worker it forked
    return subprocess.CompletedProcess(command, server.wait(), log.read_text(errors="replace"), "")


def _answers(url: str) -> bool:
    try:
        get(url, timeout=2)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("launcher", ["exokg serve", "gunicorn"])
@pytest.mark.parametrize("damaged", DAMAGE, ids=DAMAGE_IDS, indirect=True)
def test_damaged_build_stops_the_server(damaged, launcher, tmp_path):
    data, words = damaged
    run = _start(launcher, data, tmp_path / "server.log")
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-2000:]
    assert words in output and "Traceback" not in output, output[-2000:]


# --- a build that dies half way --------------------------------------------------------------------------------

def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture()
def previous(build_dir, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(build_dir, out)
    return out, _snapshot(out)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


FAILURES = [  # (case, which call fails, on its n-th use)
    ("disk full on the first file", "fsync", 1),
    ("disk full half way through the files", "fsync", 5),
    ("disk full writing the store", "store", 1),
    ("disk full at the swap", "rename", 2),
]


@pytest.mark.parametrize("case, call, nth", FAILURES, ids=[f[0] for f in FAILURES])
def test_a_write_that_fails_keeps_the_previous_outputs(previous, monkeypatch, case, call, nth):
    out, before = previous
    files = {name: data + b"\n# changed\n" for name, data in before.items() if "/" not in name}
    uses = {"n": 0}

    def failing(real):
        def wrapper(*args, **kwargs):
            uses["n"] += 1
            if uses["n"] == nth:
                _no_space()
            return real(*args, **kwargs)
        return wrapper

    directories = {STORE_DIR: failing(lambda path: path.mkdir()) if call == "store" else (lambda path: path.mkdir())}
    if call in ("fsync", "rename"):
        monkeypatch.setattr(build_module.os, call, failing(getattr(os, call)))
    with pytest.raises(OSError) as raised:
        write_atomically(out, files, directories)
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no staging or retired directory left


@pytest.mark.parametrize("when", ["soon after start", "while writing"])
def test_a_killed_build_keeps_the_previous_outputs(previous, when):
    out, before = previous
    build = subprocess.Popen([sys.executable, "-m", "exokg", "build", "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if when == "soon after start":
            time.sleep(1.0)
        else:  # the staging directory exists only while the outputs are written
            _wait_for(lambda: any(p.name.startswith(".out.new-") for p in out.parent.iterdir()) or build.poll() is not None,
                      "the build writing its outputs", seconds=600)
        assert build.poll() is None, "the build ended before it could be killed"
        os.killpg(build.pid, signal.SIGKILL)
        build.wait(BOUND)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
    assert _snapshot(out) == before
