"""A first HTTP benchmark of the endpoint, next to an Oxigraph server on the same data, in one run.

Starts the endpoint as ``make run`` serves it (gunicorn, several workers) and an Oxigraph server
(PyPI ``oxigraph``, read-only, union default graph) loaded with the same build's ``exokg.nq``, both on
loopback; checks that both give the same number of rows for each query of the mix; then, for each
concurrency level, keeps that many clients sending the mix (GET, keep-alive) for a fixed time and
reports queries per second and p50/p95 latency.

    python bench/http_bench.py --data build [--seconds 10] [--concurrency 1 4] [--workers 4]
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
from exokg.server.testing import running_endpoint, running_oxigraph

PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
MIX = {  # name → query: lookups, joins, aggregates, text filters, paths, CONSTRUCT/DESCRIBE
    "ask-finding": "ASK { <https://w3id.org/exokg/finding/TME-001> a exo:TableFinding }",
    "findings-by-table": "SELECT ?source (COUNT(?f) AS ?n) WHERE { ?f exo:fromSource ?source } GROUP BY ?source ORDER BY ?source",
    "cargo-of-findings": "SELECT ?f ?cargo ?label WHERE { ?f exo:hasCargo ?cargo . ?cargo rdfs:label ?label } ORDER BY ?f ?cargo",
    "effects-promoting": "SELECT ?f ?process WHERE { ?f exo:hasEffect ?e . ?e exo:hasDirection exo:promotes ; exo:affectsProcess ?process } ORDER BY ?f ?process",
    "label-search": "SELECT ?s ?label WHERE { ?s rdfs:label ?label FILTER(CONTAINS(LCASE(STR(?label)), \"mir\")) } ORDER BY ?s ?label",
    "optional-receiver": "SELECT ?f ?receiver WHERE { ?f a exo:TableFinding OPTIONAL { ?f exo:hasReceivingPopulation ?receiver } } ORDER BY ?f ?receiver",
    "class-hierarchy": "SELECT ?c (COUNT(?sup) AS ?n) WHERE { ?c a owl:Class ; rdfs:subClassOf+ ?sup } GROUP BY ?c ORDER BY ?c",
    "construct-finding": "CONSTRUCT { <https://w3id.org/exokg/finding/TME-001> ?p ?o } WHERE { <https://w3id.org/exokg/finding/TME-001> ?p ?o }",
    "describe-finding": "DESCRIBE <https://w3id.org/exokg/finding/RT-001>",
}
ACCEPT = {"construct-finding": "application/n-triples", "describe-finding": "application/n-triples"}


class Client:
    """One keep-alive HTTP connection sending GET queries to ``url``."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.path = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def run(self, name: str) -> tuple[int, bytes]:
        accept = ACCEPT.get(name, "application/sparql-results+json")
        self.conn.request("GET", f"{self.path}?{urllib.parse.urlencode({'query': PROLOGUE + MIX[name]})}",
                          headers={"Accept": accept})
        response = self.conn.getresponse()
        return response.status, response.read()


def size(name: str, status: int, body: bytes) -> int:
    if status != 200:
        raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
    if name in ACCEPT:
        return len([line for line in body.decode().splitlines() if line.strip()])
    answer = json.loads(body)
    return 1 if "boolean" in answer else len(answer["results"]["bindings"])


def measure(url: str, concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    names = list(MIX)

    def loop(offset: int) -> None:
        nonlocal errors
        client, i = Client(url), offset
        while time.monotonic() < stop:
            name = names[i % len(names)]
            i += 1
            started = time.perf_counter()
            try:
                status, _ = client.run(name)
            except (OSError, http.client.HTTPException):
                status, client = 0, Client(url)
            with lock:
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

    began = time.monotonic()
    threads = [threading.Thread(target=loop, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"queries": len(latencies), "errors": errors, "qps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="build", type=Path, help="the build directory (exokg build --out)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per server and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of the endpoint (make run: 4)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not (args.data / "exokg.nq").is_file():
        print(f"error: {args.data}/exokg.nq missing; run 'exokg build --out {args.data}' first", file=sys.stderr)
        return 2
    figures = []
    with tempfile.TemporaryDirectory(prefix="exokg-bench-") as tmp:
        tmp = Path(tmp)
        settings = {"EXOKG_QUERY_PROCESSES": "4"}
        with running_endpoint(args.data, tmp / "exokg.log", workers=args.workers, threads=4, settings=settings) as ours, \
                running_oxigraph(tmp / "oxigraph.log", data=args.data / "exokg.nq", location=tmp / "oxigraph") as oxi:
            servers = {"exokg (rdflib, gunicorn)": ours, "oxigraph server": f"{oxi}/query"}
            sizes = {label: {n: size(n, *Client(url).run(n)) for n in MIX} for label, url in servers.items()}
            ours_sizes, oxi_sizes = sizes.values()
            for name in MIX:
                agree = "same" if ours_sizes[name] == oxi_sizes[name] else "DIFFERENT"
                print(f"{name:20} rows exokg {ours_sizes[name]:5}  oxigraph {oxi_sizes[name]:5}  {agree}")
            for concurrency in args.concurrency:
                for label, url in servers.items():
                    result = measure(url, concurrency, args.seconds)
                    figures.append({"server": label, "concurrency": concurrency, **result})
    print(f"\nquery mix of {len(MIX)} queries over HTTP, {args.seconds:g} s per line, workers={args.workers}\n")
    print("| server | concurrency | queries/s | p50 ms | p95 ms | queries | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        print(f"| {f['server']} | {f['concurrency']} | {f['qps']:.1f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} "
              f"| {f['queries']} | {f['errors']} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
