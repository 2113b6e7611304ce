"""A load generator for any SPARQL endpoint: a query mix sent by concurrent keep-alive clients for a fixed time.

Each of ``concurrency`` clients holds one HTTP/1.1 connection and sends the mix's queries round-robin
(each client starting at a different query), as GET requests of the SPARQL 1.1 Protocol
(https://www.w3.org/TR/sparql11-protocol/#query-via-get), POST when a query is too long for a URL.
A warm-up runs the same loop first and is not counted. Reported per query and overall: queries, errors
(any answer other than 200, or a broken connection), queries per second, and the p50/p95/p99 latency.

The mix is a directory of ``.rq`` files (bench/queries by default), each self-contained (its own PREFIXes).
:func:`answer_sizes` runs each query once and counts its answer, to check a mix on a server.

    python bench/load.py http://127.0.0.1:7878/query [--queries bench/queries] [--concurrency 4]
                         [--seconds 10] [--warmup 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).with_name("queries")
# SELECT and ASK answers as SPARQL JSON; CONSTRUCT and DESCRIBE as N-Triples, Turtle for servers without it.
RESULTS_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.8, */*;q=0.1"
MAX_GET_BYTES = 6000  # gunicorn refuses request lines over 8190 bytes; longer queries are POSTed
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b(?!:)", re.IGNORECASE)  # not a prefix named ask:


@dataclass(frozen=True)
class Query:
    name: str
    text: str

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside comments, IRIs and prefixed names."""
        body = re.sub(r"#[^\n]*|<[^>\s]*>", " ", self.text)
        match = _FORM.search(body)
        if match is None:
            raise ValueError(f"{self.name}: not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")
        return match.group(1).upper()

    @property
    def accept(self) -> str:
        return GRAPH_ACCEPT if self.form in ("CONSTRUCT", "DESCRIBE") else RESULTS_ACCEPT


def load_mix(directory: Path = QUERIES_DIR, only: list[str] | None = None) -> list[Query]:
    """The ``.rq`` files of ``directory`` in name order (those whose name contains one of ``only``)."""
    queries = [Query(path.stem, path.read_text(encoding="utf-8")) for path in sorted(Path(directory).glob("*.rq"))]
    if only:
        queries = [q for q in queries if any(word in q.name for word in only)]
    if not queries:
        raise ValueError(f"no .rq queries in {directory}" + (f" matching {only}" if only else ""))
    return queries


class Client:
    """One keep-alive connection to a SPARQL endpoint URL."""

    def __init__(self, url: str, timeout: float = 120.0):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url}: an http:// endpoint URL is needed")
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path or "/"
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.headers: dict[str, str] = {}  # of the last answer

    def send(self, query: Query) -> tuple[int, str, bytes]:
        """(status, content type, body) of one query; reconnects once if the server closed the connection."""
        encoded = urllib.parse.urlencode({"query": query.text})
        for attempt in (1, 2):
            try:
                if len(encoded) <= MAX_GET_BYTES:
                    self.conn.request("GET", f"{self.path}?{encoded}", headers={"Accept": query.accept})
                else:
                    self.conn.request("POST", self.path, body=encoded.encode(), headers={
                        "Accept": query.accept, "Content-Type": "application/x-www-form-urlencoded"})
                response = self.conn.getresponse()
                self.headers = {k.lower(): v for k, v in response.getheaders()}
                return response.status, response.getheader("Content-Type", ""), response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed between requests: retry once on a new one.
                self.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def count_answer(query: Query, content_type: str, body: bytes) -> int:
    """Solutions of a SELECT, 1/0 for an ASK, triples of a CONSTRUCT or DESCRIBE answer."""
    if query.form in ("SELECT", "ASK"):
        answer = json.loads(body)
        return int(answer["boolean"]) if "boolean" in answer else len(answer["results"]["bindings"])
    from rdflib import Graph

    media = content_type.split(";")[0].strip().lower()
    fmt = {"application/n-triples": "nt", "text/plain": "nt", "text/turtle": "turtle", "application/rdf+xml": "xml",
           "application/xml": "xml", "text/xml": "xml", "application/ld+json": "json-ld"}.get(media, "turtle")
    if body.lstrip().startswith(b"<?xml"):
        fmt = "xml"  # rdflib-endpoint 0.6 labels its RDF/XML graphs application/sparql-results+xml
    graph = Graph()
    graph.parse(io.BytesIO(body), format=fmt)
    return len(graph)


def answer_sizes(url: str, queries: list[Query]) -> dict[str, int]:
    """Each query's answer size on the endpoint at ``url``; raises RuntimeError on a non-200 answer."""
    client, sizes = Client(url), {}
    try:
        for query in queries:
            status, content_type, body = client.send(query)
            if status != 200:
                raise RuntimeError(f"{url}: {query.name}: HTTP {status}: {body[:400]!r}")
            sizes[query.name] = count_answer(query, content_type, body)
    finally:
        client.close()
    return sizes


def percentile(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of sorted values, by linear interpolation between closest ranks."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies: list[float], errors: int, elapsed: float) -> dict:
    """Counts, rate and latency percentiles (ms) of successful queries over ``elapsed`` seconds."""
    ordered = sorted(latencies)
    return {
        "queries": len(ordered),
        "errors": errors,
        "qps": len(ordered) / elapsed if elapsed > 0 else math.nan,
        "mean_ms": sum(ordered) / len(ordered) * 1000 if ordered else math.nan,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p95_ms": percentile(ordered, 95) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
    }


def _loop(url: str, queries: list[Query], offset: int, done, record) -> None:
    client, i = Client(url), offset
    try:
        while not done():
            query = queries[i % len(queries)]
            i += 1
            started = time.perf_counter()
            try:
                status, _, _ = client.send(query)
            except (OSError, http.client.HTTPException):
                status = 0
                client.close()
                client = Client(url)
            record(query.name, status == 200, time.perf_counter() - started)
    finally:
        client.close()


def _drive(url: str, queries: list[Query], concurrency: int, seconds: float, record, start: int = 0,
           max_seconds: float | None = None) -> float:
    """Run the clients for ``seconds``, and on until every query has been answered once (at most
    ``max_seconds`` in all): on a slow server, a short run would otherwise measure only the mix's first
    queries."""
    began = time.monotonic()
    stop, hard_stop = began + seconds, began + (max_seconds if max_seconds is not None else seconds)
    answered: set[str] = set()
    lock = threading.Lock()

    def counted(name: str, ok: bool, latency: float) -> None:
        with lock:
            answered.add(name)
        record(name, ok, latency)

    def done() -> bool:
        now = time.monotonic()
        return now >= hard_stop or (now >= stop and len(answered) == len(queries))

    threads = [threading.Thread(target=_loop, args=(url, queries, start + k * len(queries) // concurrency, done, counted))
               for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - began


def run_load(url: str, queries: list[Query], concurrency: int = 1, seconds: float = 10.0,
             warmup: float = 1.0, keep_latencies: bool = False, start: int = 0, max_seconds: float | None = None) -> dict:
    """Drive ``url`` with the mix; ``{"overall": stats, "per_query": {name: stats}, ...}``.

    The run lasts ``seconds``, longer if needed (up to ``max_seconds``, default 10 × ``seconds``) until
    each query has been answered once. Client k starts at query ``start + k × len(queries) / concurrency``.
    ``keep_latencies`` adds ``"latencies"``: each query's latencies in seconds, to merge several runs.
    """
    if concurrency < 1 or seconds <= 0:
        raise ValueError("concurrency must be at least 1 and seconds positive")
    if warmup > 0:
        _drive(url, queries, concurrency, warmup, lambda *_: None, start)
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {q.name: [] for q in queries}
    errors: dict[str, int] = {q.name: 0 for q in queries}

    def record(name: str, ok: bool, latency: float) -> None:
        with lock:
            if ok:
                latencies[name].append(latency)
            else:
                errors[name] += 1

    elapsed = _drive(url, queries, concurrency, seconds, record, start,
                     10 * seconds if max_seconds is None else max(max_seconds, seconds))
    result = {
        "url": url, "concurrency": concurrency, "seconds": elapsed,
        "overall": summarize([x for values in latencies.values() for x in values], sum(errors.values()), elapsed),
        "per_query": {name: summarize(latencies[name], errors[name], elapsed) for name in latencies},
    }
    if keep_latencies:
        result["latencies"] = latencies
    return result


def format_report(result: dict) -> str:
    lines = [f"{result['url']}  concurrency {result['concurrency']}  {result['seconds']:.1f} s",
             f"{'query':32} {'queries':>8} {'errors':>6} {'q/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"]
    rows = [*result["per_query"].items(), ("overall", result["overall"])]
    for name, s in rows:
        lines.append(f"{name:32} {s['queries']:8d} {s['errors']:6d} {s['qps']:9.1f} "
                     f"{s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['p99_ms']:8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the SPARQL query endpoint, e.g. http://127.0.0.1:8000/sparql")
    parser.add_argument("--queries", type=Path, default=QUERIES_DIR, help="directory of .rq files")
    parser.add_argument("--only", nargs="+", metavar="WORD", help="only the queries whose name contains WORD")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    queries = load_mix(args.queries, args.only)
    try:
        sizes = answer_sizes(args.url, queries)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    empty = [name for name, n in sizes.items() if n == 0]
    if empty:
        print(f"warning: empty answers: {', '.join(empty)}", file=sys.stderr)
    result = run_load(args.url, queries, args.concurrency, args.seconds, args.warmup)
    result["answer_sizes"] = sizes
    print(format_report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
