"""Queries already seen to finish fast are evaluated in the server's own thread (issue 8).

The query processes (:mod:`exokg.server.executor`) exist so that a runaway query can be killed. Handing a
query to one costs a pipe round trip and two process switches, and evaluations in separate processes share
two cores worse than threads of one process do (on 10^6 triples four warm query processes took 4.8 s for
what four threads of one process did in 3.8 s: every switch between processes changes address space).
The dataset does not change between builds, so a query that already finished within ``seconds`` on this
dataset version cannot run away when asked again: such a query (same text, dataset and base) is
evaluated in the calling thread, where pyoxigraph releases the GIL while it evaluates. Only queries that
Oxigraph answered qualify: rdflib's (allow-listed SERVICE) stay behind the query processes' network guard.

A query that took less than ``FLOOR`` stays in the query processes too: its cost is the Python around
the evaluation (parsing, writing the answer), which holds the server's GIL in a thread but runs in
parallel in the processes. On the review graph, in-thread evaluation of every repeated query lowered the
throughput at 4 clients from 834 to 670 queries/s (docs/benchmarks.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from exokg.server.cache import normalize
from exokg.server.engine import Answer, Job


FLOOR = 0.005  # seconds: below this, a query's evaluation is not what costs (see above)


class ProvenFast:
    """The queries of one server process that took from ``floor`` to ``seconds`` (at most ``size`` remembered)."""

    def __init__(self, seconds: float, size: int = 4096, floor: float = FLOOR):
        self.seconds = seconds
        self.floor = floor
        self.size = size
        self._known: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(version: str, job: Job) -> tuple:
        return version, normalize(job.query), job.default_graphs, job.named_graphs, job.base

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return True
            return False

    def record(self, key: tuple, answer: Answer) -> None:
        """Remember ``key`` when its answer came from Oxigraph, complete, within the time and not below the floor."""
        if answer.status != 200 or answer.engine != "oxigraph" or not self.floor <= answer.seconds < self.seconds:
            return
        with self._lock:
            self._known[key] = None
            self._known.move_to_end(key)
            while len(self._known) > self.size:
                self._known.popitem(last=False)
