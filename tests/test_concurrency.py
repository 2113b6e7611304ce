"""Several clients at once against the served endpoint on a graph large enough that queries run in-thread.

Regression test for issue 16: on 10^6 triples ``03_tmz_resistant_cargos`` (whose comment says "from", so
the safety screen parses it with rdflib) took over 5 ms, was proven fast (:mod:`exokg.server.proven`) and
then ran in the worker's own threads, where rdflib's parser (pyparsing) raced with itself and answered 500
for most requests. On the review graph the mix finishes under the 5 ms floor and stays in the query
processes, which is why no other test saw it.

Here bench/synthetic.py's copies of the review (about 300,000 triples) are served by gunicorn as ``make run``
starts it (2 workers, 4 threads each) with the response cache off. Every query of bench/queries, plus
queries with "from" and "service" in comments and strings, a FROM query and a refused SERVICE, is first
asked once by one client (answered by the query processes: the reference), then by six clients at once,
several times each: no answer may be a 5xx, and each must equal the reference. The server's access log
must show that queries the screen parses did run in-thread, or the test would not test the path.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from exokg.config import GRAPH, NAMED_GRAPHS
from exokg.server.testing import running_endpoint

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import load  # noqa: E402  (bench/ holds scripts, not a package)
import peers  # noqa: E402
import synthetic  # noqa: E402

TRIPLES = 300_000  # about 50 copies of the review: the slower half of the mix takes over 5 ms each
CLIENTS = 6
ROUNDS = 3  # times each client asks the whole mix, in its own order

SCREENED = [  # each makes the safety screen parse the query with rdflib (see engine._NEEDS_SCREENING)
    load.Query("x1_from_in_comment", "# every label taken from the graph, counted\n"
               "SELECT (COUNT(?l) AS ?n) WHERE { ?s rdfs:label ?l FILTER(CONTAINS(STR(?l), \"-\")) }"),
    load.Query("x2_service_in_string", "SELECT (COUNT(?s) AS ?n) (MIN(?l) AS ?first) WHERE {\n"
               "  ?s rdfs:label ?l FILTER(!REGEX(?l, \"service from the SERVICE desk\", \"i\")) }"),
    load.Query("x3_construct_from_comment", "# identifiers from the table findings\n"
               "CONSTRUCT { ?f rdfs:label ?id } WHERE { ?f a exo:TableFinding ; dcterms:identifier ?id }"),
    load.Query("x4_from_clause", f"SELECT ?p (COUNT(*) AS ?n) FROM <{GRAPH['asserted']}> WHERE {{ ?s ?p ?o }} GROUP BY ?p"),
    load.Query("x5_unicode_escape", "SELECT (COUNT(?s) AS ?n) WHERE { ?s a exo:TableFinding ; "
               "exo:hasCargo/rdfs:label ?l FILTER(?l != \"\\u0073ervice\") }"),
    # refused by the screen every time (403), never proven: it must stay a 403 under load, never a 500
    load.Query("x6_refused_service", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
]
MIX = load.load_mix() + SCREENED


@pytest.fixture(scope="module")
def large_build(build_dir, tmp_path_factory) -> Path:
    """The review build's quads with about 300,000 synthetic triples added to its asserted graph."""
    directory = tmp_path_factory.mktemp("large")
    quads = directory / peers.DATA_FILE
    review = (build_dir / peers.DATA_FILE).read_text(encoding="utf-8").splitlines()
    asserted = f" <{GRAPH['asserted']}> .\n"
    with open(quads, "w", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in review if line.strip())
        for s, p, o in synthetic.iter_triples(TRIPLES):
            out.write(f"{synthetic.nt_term(s)} {synthetic.nt_term(p)} {synthetic.nt_term(o)}{asserted}")
    counts = Counter(line.rsplit(" ", 2)[-2].strip("<>") for line in quads.read_text(encoding="utf-8").splitlines())
    out_dir = directory / "build"
    out_dir.mkdir()
    peers.write_build_dir(out_dir, quads, {name: counts[str(GRAPH[name])] for name in NAMED_GRAPHS})
    return out_dir


def canonical(query: load.Query, status: int, body: bytes):
    """An answer in a form that does not depend on the order of its rows or triples."""
    if status != 200:
        return status, body.decode("utf-8", "replace")
    if query.form in ("CONSTRUCT", "DESCRIBE"):
        return status, sorted(line for line in body.decode("utf-8").splitlines() if line.strip())
    answer = json.loads(body)
    if "boolean" in answer:
        return status, answer["boolean"]
    return status, sorted(json.dumps(row, sort_keys=True) for row in answer["results"]["bindings"])


def ask_all(url: str, order: list[load.Query], answers: list, failures: list) -> None:
    client = load.Client(url)
    try:
        for query in order:
            try:
                status, _, body = client.send(query)
            except OSError as exc:
                failures.append(f"{query.name}: no answer: {exc!r}")
                continue
            if status >= 500:
                failures.append(f"{query.name}: HTTP {status}: {body[:200]!r}")
            answers.append((query, canonical(query, status, body)))
    finally:
        client.close()


def test_concurrent_clients_get_the_single_client_answers_in_thread(large_build, tmp_path):
    log = tmp_path / "server.log"
    with running_endpoint(large_build, log, workers=2, threads=4, settings={"EXOKG_CACHE_BYTES": "0"}) as url:
        reference, failures = [], []
        ask_all(url, MIX, reference, failures)  # one client: every query goes to a query process
        assert failures == []
        expected = dict((query.name, answer) for query, answer in reference)
        assert expected["x6_refused_service"][0] == 403
        assert all(answer[0] == 200 for name, answer in expected.items() if name != "x6_refused_service")

        answers: list = []
        clients = []
        for k in range(CLIENTS):
            order = [q for _ in range(ROUNDS) for q in random.Random(k).sample(MIX, len(MIX))]
            clients.append(threading.Thread(target=ask_all, args=(url, order, answers, failures)))
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    assert failures == [], f"{len(failures)} of {CLIENTS * ROUNDS * len(MIX)} requests failed, first: {failures[0]}"
    assert len(answers) == CLIENTS * ROUNDS * len(MIX)
    wrong = sorted({query.name for query, answer in answers if answer != expected[query.name]})
    assert wrong == [], f"answers that differ from the single client's: {wrong}"

    # the path under test was taken: queries the screen parses were evaluated in the workers' threads
    sha = {hashlib.sha256(q.text.encode()).hexdigest()[:12]: q.name for q in MIX}
    in_thread = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"venue": "thread"' in line:
            in_thread.add(sha.get(json.loads(line).get("query_sha")))
    screened = {q.name for q in MIX if q.name.startswith("03_") or q.name in {s.name for s in SCREENED}}
    assert in_thread & screened, f"no screened query ran in-thread (in-thread: {sorted(n for n in in_thread if n)})"
