"""Soak test (on demand, not in CI): N minutes at concurrency 8 against gunicorn with a mixed workload.

Starts the endpoint as ``make run`` serves it (gunicorn, 2 workers x 4 threads, query processes per
worker), then 8 clients send a mix for ``--minutes``: SELECT/ASK/CONSTRUCT/DESCRIBE (half with a fresh
comment so the response cache cannot answer them), the service description, VoID, /health,
/openapi.json, a malformed query (400 expected) and now and then a pathological one (503 expected,
cut off by the timeout). Reports throughput, errors (an unexpected status or a broken connection),
and the resident memory (RSS) of each worker and of its query processes at start and end.

    python bench/soak.py --data build [--minutes 10] [--concurrency 8] [--json out.json]
    python bench/soak.py --data build --scale 160 --cache-bytes 0 --fast-path-seconds 0   # 10^6 triples, issue 16
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from exokg.config import PREFIXES
from exokg.server.testing import free_port, running_process

PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
F = "https://w3id.org/exokg/finding/"
MIX = [  # (name, weight, method, path, query or None, Accept, expected statuses)
    ("select findings", 20, "GET", "/sparql", "SELECT ?f ?label WHERE { ?f a exo:TableFinding ; rdfs:label ?label } ORDER BY ?f", "application/sparql-results+json", (200,)),
    ("select cargo join", 10, "GET", "/sparql", "SELECT ?f ?cargo ?l WHERE { ?f exo:hasCargo ?cargo . ?cargo rdfs:label ?l } ORDER BY ?f", "text/csv", (200,)),
    ("aggregate", 8, "POST", "/sparql", "SELECT ?s (COUNT(?f) AS ?n) WHERE { ?f exo:fromSource ?s } GROUP BY ?s", "application/sparql-results+xml", (200,)),
    ("label filter", 8, "GET", "/sparql", 'SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(LCASE(STR(?l)), "mir")) }', "text/tab-separated-values", (200,)),
    ("ask", 10, "GET", "/sparql", f"ASK {{ <{F}TME-001> a exo:TableFinding }}", "application/sparql-results+json", (200,)),
    ("construct", 6, "GET", "/sparql", f"CONSTRUCT {{ <{F}TME-001> ?p ?o }} WHERE {{ <{F}TME-001> ?p ?o }}", "text/turtle", (200,)),
    ("describe", 6, "GET", "/sparql", f"DESCRIBE <{F}RT-001>", "application/ld+json", (200,)),
    ("path", 4, "GET", "/sparql", "SELECT ?c (COUNT(?sup) AS ?n) WHERE { ?c a owl:Class ; rdfs:subClassOf+ ?sup } GROUP BY ?c", "application/sparql-results+json", (200,)),
    ("service description", 4, "GET", "/sparql", None, "text/turtle", (200,)),
    ("void", 3, "GET", "/.well-known/void", None, "text/turtle", (200,)),
    ("health", 3, "GET", "/health", None, "application/json", (200,)),
    ("openapi", 2, "GET", "/openapi.json", None, "application/json", (200,)),
    ("malformed", 4, "GET", "/sparql", "SELECT ?x WHERE { ?x ", "application/sparql-results+json", (400,)),
    ("pathological", 1, "GET", "/sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "application/sparql-results+json", (503,)),
]
# and the peer benchmark's mix (bench/queries), whose 03 says "from" in a comment: the safety screen parses
# it with RDFLib, in the server's threads once it is proven fast (the 500s of issue 16 at 10^6 triples)
sys.path.insert(0, str(Path(__file__).parent))
import load  # noqa: E402  (bench/ is a folder of scripts, not a package)

MIX += [(q.name, 2, "POST" if q.form == "CONSTRUCT" else "GET", "/sparql", q.text,
         "application/n-triples" if q.form in ("CONSTRUCT", "DESCRIBE") else "application/sparql-results+json", (200,))
        for q in load.load_mix()]


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def memory(master: int) -> dict[int, dict]:
    """worker pid → its RSS and its query processes' RSS (kB)."""
    return {w: {"worker_kb": rss_kb(w), "query_processes_kb": {q: rss_kb(q) for q in children(w)}} for w in children(master)}


def client_loop(base: str, deadline: float, stats: dict, lock: threading.Lock, seed: int) -> None:
    rng = random.Random(seed)
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    weights = [m[1] for m in MIX]
    n = 0
    while time.monotonic() < deadline:
        name, _, method, path, query, accept, expected = rng.choices(MIX, weights)[0]
        n += 1
        if query is not None and rng.random() < 0.5 and name not in ("malformed", "pathological"):
            query += f"\n# {seed}-{n}"  # not in the response cache
        text = PROLOGUE + query if query else None
        started = time.perf_counter()
        try:
            if method == "POST" and text:
                conn.request("POST", path, body=text.encode(), headers={"Content-Type": "application/sparql-query", "Accept": accept})
            else:
                url = path + ("?" + urllib.parse.urlencode({"query": text}) if text else "")
                conn.request("GET", url, headers={"Accept": accept})
            response = conn.getresponse()
            body = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status, body = type(exc).__name__, b""
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        seconds = time.perf_counter() - started
        with lock:
            stats["requests"] += 1
            stats["by_name"][name] += 1
            stats["statuses"][str(status)] += 1
            if status not in expected:
                stats["errors"] += 1
                stats["error_samples"].append(f"{name}: {status} {body[:70].decode('utf-8', 'replace').strip()}")
            stats["latency"].append(seconds)
    conn.close()


def soak(data: Path, minutes: float, concurrency: int, log: Path, workers: int = 2, timeout: float = 3.0,
         query_processes: int | None = None, settings: dict[str, str] | None = None) -> dict:
    port = free_port()
    env = {**os.environ, "EXOKG_DATA": str(data), "EXOKG_QUERY_TIMEOUT": str(timeout), **(settings or {})}
    if query_processes:
        env["EXOKG_QUERY_PROCESSES"] = str(query_processes)
    command = [str(Path(sys.executable).with_name("gunicorn")), "--config", "python:exokg.server.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"]
    base = f"http://127.0.0.1:{port}"
    stats = {"requests": 0, "errors": 0, "error_samples": [], "latency": [],
             "by_name": collections.Counter(), "statuses": collections.Counter()}
    lock = threading.Lock()
    with running_process(command, base + "/health", log, env) as master:
        # warm-up: every worker forks its query processes on first use
        warm = threading.Thread(target=client_loop, args=(base, time.monotonic() + 5, {"requests": 0, "errors": 0,
                                "error_samples": [], "latency": [], "by_name": collections.Counter(),
                                "statuses": collections.Counter()}, threading.Lock(), -1))
        warm.start()
        warm.join()
        start = memory(master.pid)
        started = time.monotonic()
        deadline = started + minutes * 60
        threads = [threading.Thread(target=client_loop, args=(base, deadline, stats, lock, i)) for i in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        end = memory(master.pid)
    latency = sorted(stats["latency"])
    return {
        "minutes": round(elapsed / 60, 2), "concurrency": concurrency, "workers": workers, "timeout_s": timeout,
        "query_processes": query_processes or "default", "settings": settings or {},
        "requests": stats["requests"], "throughput_rps": round(stats["requests"] / elapsed, 1),
        "errors": stats["errors"], "error_samples": stats["error_samples"][:10],
        "statuses": dict(stats["statuses"]), "by_name": dict(stats["by_name"]),
        "p50_ms": round(latency[len(latency) // 2] * 1000, 1) if latency else None,
        "p95_ms": round(latency[int(len(latency) * 0.95)] * 1000, 1) if latency else None,
        "workers_replaced": len(set(start) ^ set(end)) // 2 if set(start) != set(end) else 0,
        "memory_start": {str(k): v for k, v in start.items()}, "memory_end": {str(k): v for k, v in end.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="build", help="the build directory")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=3.0, help="EXOKG_QUERY_TIMEOUT of the server (s)")
    parser.add_argument("--query-processes", type=int, help="EXOKG_QUERY_PROCESSES per worker (default: the server's)")
    parser.add_argument("--scale", type=int, help="soak bench/synthetic.py's graph of this many times the review "
                        "instead (160: about 10^6 triples; made once, kept in --cache)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "exokg-bench-data",
                        help="where synthetic data sets are kept between runs (shared with run_peers.py)")
    parser.add_argument("--cache-bytes", help="EXOKG_CACHE_BYTES of the server (0: no response cache)")
    parser.add_argument("--fast-path-seconds", help="EXOKG_FAST_PATH_SECONDS of the server (0: no in-thread evaluation)")
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if args.scale:
        import peers

        data = peers.synthetic_data(args.scale, peers.review_data(data), args.cache).build_dir
    settings = {key: value for key, value in (("EXOKG_CACHE_BYTES", args.cache_bytes),
                                              ("EXOKG_FAST_PATH_SECONDS", args.fast_path_seconds)) if value is not None}
    with tempfile.TemporaryDirectory() as tmp:
        figures = soak(data, args.minutes, args.concurrency, Path(tmp) / "gunicorn.log", timeout=args.timeout,
                       query_processes=args.query_processes, settings=settings)
    figures["data"] = str(data)
    print(f"{figures['minutes']} min at concurrency {figures['concurrency']}: {figures['requests']} requests, "
          f"{figures['throughput_rps']} req/s, {figures['errors']} errors, p95 {figures['p95_ms']} ms")
    for pid, start in figures["memory_start"].items():
        end = figures["memory_end"].get(pid, {})
        print(f"worker {pid}: RSS {start['worker_kb']} -> {end.get('worker_kb')} kB; query processes "
              f"{sum(v or 0 for v in start['query_processes_kb'].values())} -> "
              f"{sum(v or 0 for v in end.get('query_processes_kb', {}).values())} kB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
