"""Pathological queries against the endpoint under gunicorn: each is cut off by the query timeout
(503 with a message), and a light query stays answered while two of them run.

Measures, in one run on one server: the status, message and wall time of each pathological query;
the light query's p50/p95 latency idle, then while two clients keep sending pathological queries
(each cut off and sent again). The light query carries a distinct comment each time, so the
response cache never answers it. Prints a table and, with --json, writes the figures for
bench/robustness_report.py. tests/test_security.py asserts the cut-offs themselves (not timings).

    python bench/pathological.py --data build [--timeout 3] [--requests 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from exokg.config import PREFIXES
from exokg.server.testing import running_endpoint

PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
# name → query; each would run for hours on the review graph (~10^4 triples) without the timeout.
PATHOLOGICAL = {
    "cartesian product": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "(<p>|!<p>)* path": "SELECT (COUNT(*) AS ?n) WHERE { ?s (rdfs:label|!rdfs:label)* ?o . ?x (rdfs:label|!rdfs:label)* ?y }",
    # Oxigraph's regex engine (Rust regex) is linear-time, so the nested quantifier cannot backtrack
    # catastrophically; the regex runs over a cartesian product instead, which is what costs.
    "catastrophic regex": 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c '
                          'FILTER(REGEX(CONCAT(STR(?o), STR(?c), "!"), "^(a+)+$|^(.*a){20}$")) }',
    "huge OFFSET": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } OFFSET 1000000000000 LIMIT 1",
}
LIGHT = "SELECT ?f ?label WHERE {{ ?f a exo:TableFinding ; rdfs:label ?label }} ORDER BY ?f LIMIT 5 # {}"


class Client:
    """One keep-alive connection sending GET queries."""

    def __init__(self, url: str, timeout: float = 300):
        parts = urllib.parse.urlsplit(url)
        self.path, self.host, self.port, self.timeout = parts.path, parts.hostname, parts.port, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, query: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        try:
            self.conn.request("GET", f"{self.path}?{urllib.parse.urlencode({'query': PROLOGUE + query})}",
                              headers={"Accept": "application/sparql-results+json"})
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):  # the server closed a kept-alive connection: reconnect once
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request("GET", f"{self.path}?{urllib.parse.urlencode({'query': PROLOGUE + query})}")
            response = self.conn.getresponse()
            body = response.read()
        return response.status, body, time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def light_latencies(url: str, count: int, tag: str) -> tuple[list[float], list[int]]:
    client = Client(url)
    times, statuses = [], []
    for n in range(count):
        status, _, seconds = client.get(LIGHT.format(f"{tag}-{n}-{time.monotonic_ns()}"))
        times.append(seconds)
        statuses.append(status)
    client.close()
    return times, statuses


def measure(data: Path, timeout: float, requests: int, log: Path) -> dict:
    settings = {"EXOKG_QUERY_TIMEOUT": str(timeout)}
    with running_endpoint(data, log, workers=2, threads=4, settings=settings) as url:
        light_latencies(url, 10, "warm")  # each worker forks its query processes on first use
        cutoffs = []
        for name, query in PATHOLOGICAL.items():
            client = Client(url)
            status, body, seconds = client.get(query)
            client.close()
            cutoffs.append({"query": name, "status": status, "seconds": round(seconds, 2),
                            "message": body.decode("utf-8", "replace").strip()[:160]})
            print(f"{name:22} {status} in {seconds:.2f} s: {body[:90]!r}", file=sys.stderr)

        idle, idle_status = light_latencies(url, requests, "idle")
        stop = threading.Event()
        heavy_answers: list[int] = []

        def heavy(names: list[str]) -> None:
            client = Client(url)
            while not stop.is_set():
                for name in names:
                    if stop.is_set():
                        break
                    heavy_answers.append(client.get(PATHOLOGICAL[name])[0])
            client.close()

        names = list(PATHOLOGICAL)
        threads = [threading.Thread(target=heavy, args=(names[i::2],)) for i in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # both heavy queries running
        loaded, loaded_status = light_latencies(url, requests, "loaded")
        stop.set()
        for thread in threads:
            thread.join()
    idle_p95, loaded_p95 = percentile(idle, 0.95), percentile(loaded, 0.95)
    return {
        "timeout_s": timeout,
        "cutoffs": cutoffs,
        "light_requests": requests,
        "light_idle_p50_ms": round(statistics.median(idle) * 1000, 1),
        "light_idle_p95_ms": round(idle_p95 * 1000, 1),
        "light_loaded_p50_ms": round(statistics.median(loaded) * 1000, 1),
        "light_loaded_p95_ms": round(loaded_p95 * 1000, 1),
        "p95_ratio": round(loaded_p95 / idle_p95, 2),
        "light_errors": sum(1 for s in idle_status + loaded_status if s != 200),
        "heavy_answers_while_loaded": {str(s): heavy_answers.count(s) for s in sorted(set(heavy_answers))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="build", help="the build directory")
    parser.add_argument("--timeout", type=float, default=3.0, help="EXOKG_QUERY_TIMEOUT of the server (s)")
    parser.add_argument("--requests", type=int, default=100, help="light queries per measurement")
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(args.data), args.timeout, args.requests, Path(tmp) / "gunicorn.log")
    for cut in figures["cutoffs"]:
        print(f"| {cut['query']} | {cut['status']} | {cut['seconds']} s |")
    print(f"light query p95: idle {figures['light_idle_p95_ms']} ms, with two heavy queries running "
          f"{figures['light_loaded_p95_ms']} ms (ratio {figures['p95_ratio']}); errors {figures['light_errors']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    ok = all(c["status"] == 503 for c in figures["cutoffs"]) and figures["light_errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
