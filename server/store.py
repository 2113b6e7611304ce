"""The built dataset, opened for querying (by the CLI and the endpoint), and the per-query views of it.

Two stores answer the same contract (``query(text) -> rdflib.query.Result``, ``version``, ``modified``,
``info``, ``void``, ``graph_names()``, ``answer(plan, job, settings)``; the interface for other backends
is described in docs and in :func:`init_app`):

- :class:`OxigraphStore` (engine ``oxigraph``, the default): a dataset of up to ``EXOKG_MEMORY_TRIPLES``
  triples is loaded from ``exokg.trig`` into an in-memory Oxigraph store before gunicorn forks; a bigger
  one is served from the Oxigraph store that ``exokg build`` writes into the build directory
  (``oxigraph/``), opened read-only by every process that queries it (gunicorn workers and their query
  processes each open their own handle after fork: a RocksDB handle must not cross a fork).
  https://pyoxigraph.readthedocs.io/
- :class:`GraphStore` (engine ``rdflib``): an rdflib Dataset parsed from ``exokg.trig``; used when the
  operator enables SPARQL Update, whose semantics (and W3C tests) the rdflib path already covers.

The dataset's default graph is the union of its named graphs (ontology, asserted, inferred), so a query
without FROM sees everything. A SPARQL 1.1 Protocol request may instead pick its own RDF dataset among
the store's graphs (``default-graph-uri`` / ``named-graph-uri``, or FROM / FROM NAMED in the query):
:class:`DatasetView` presents exactly that dataset to RDFLib's evaluator without copying any triple.
See https://www.w3.org/TR/sparql11-protocol/#dataset and https://www.w3.org/TR/sparql11-query/#specifyingDataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.paths import Path as PropertyPath
from rdflib.query import Result

from exokg.config import DATASET_IRI, GRAPH, NAMED_GRAPHS, PREFIXES, bind_prefixes

DATASET_FILE = "exokg.trig"
VOID_FILE = "void.ttl"
STORE_DIR = "oxigraph"  # the Oxigraph (RocksDB) store written by `exokg build` next to the dumps
REQUIRED_FILES = (DATASET_FILE, VOID_FILE)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
log = logging.getLogger("exokg.server")
_MAY_CALL_OUT = re.compile(r"service|\\u", re.IGNORECASE)  # see exokg.server.engine._NEEDS_SCREENING

# RDFLib 7.x deprecates the Dataset API that its own parser and SPARQL evaluator still call; these
# warnings are RDFLib's business, not a sign of a problem in ours, so they are silenced by message.
_RDFLIB_DEPRECATIONS = (
    r"ConjunctiveGraph is deprecated",
    r"Dataset\.default_context is deprecated",
    r"Dataset\.contexts is deprecated",
    r"Dataset\.identifier is deprecated",
)


# RDFLib's SPARQL parser is not safe to run in two threads at once (issue 16): pyparsing finds out how many
# arguments each parse action takes on its first calls (pyparsing.core._trim_arity), by trial and error on
# state shared by every thread, so two threads parsing at once for the first time leave an action called
# with the wrong arguments for good ("Param.postParse2() missing 1 required positional argument"). And
# warnings.catch_warnings, used below, swaps the process's global filter list, so two threads inside it at
# once restore each other's filters. So every use of RDFLib's parser, evaluator or serializers in a server
# process holds this one lock (re-entrant: rdflib_internals nests). A query process is forked from a
# threaded process, maybe while another thread holds it: the child gets a fresh lock (os.register_at_fork).
RDFLIB_LOCK = threading.RLock()


def _fresh_rdflib_lock() -> None:
    global RDFLIB_LOCK
    RDFLIB_LOCK = threading.RLock()


os.register_at_fork(after_in_child=_fresh_rdflib_lock)


@contextlib.contextmanager
def rdflib_internals():
    """Run RDFLib code, holding :data:`RDFLIB_LOCK`, without the deprecation warnings RDFLib itself triggers."""
    with RDFLIB_LOCK, warnings.catch_warnings():
        for message in _RDFLIB_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
        yield


class MalformedQuery(ValueError):
    """``query(text)`` was given text that is not a SPARQL query (a ValueError, as for an invalid IRI)."""


class DatasetMissing(RuntimeError):
    """The build directory lacks the dataset or it cannot be parsed: run ``exokg build`` first."""


@dataclass(frozen=True)
class StoreInfo:
    version: str  # sha256 prefix of the dataset file: changes with every different build
    modified: float  # the dataset file's modification time (seconds since the epoch)
    triples: dict[str, int]  # named graph name → triples
    union_triples: int = 0  # triples of the default graph, the union (the same triple in two graphs counts once)


class GraphStore:
    """The dataset in an rdflib Dataset: slow to query, but updatable (the operator's update mode)."""

    engine = "rdflib"  # which evaluator answers /sparql (the X-Exokg-Engine header)
    storage = "memory"  # where the data is held (/health)
    endpoints: tuple[str, ...] = ()  # URLs its query processes must reach (none: the data is local)

    def __init__(self, build_dir: Path):
        self.build_dir = Path(build_dir)
        missing = [name for name in REQUIRED_FILES if not (self.build_dir / name).is_file()]
        if missing:
            raise DatasetMissing(f"{self.build_dir}: missing {', '.join(missing)}; run 'exokg build --out {self.build_dir}' first")
        path = self.build_dir / DATASET_FILE
        data = path.read_bytes()
        self.dataset = bind_prefixes(Dataset(default_union=True))
        try:
            with rdflib_internals():
                self.dataset.parse(data=data, format="trig")
        except Exception as exc:  # rdflib raises several unrelated types for a corrupt file
            raise DatasetMissing(f"{path}: cannot parse the dataset: {exc}") from exc
        self.void = (self.build_dir / VOID_FILE).read_bytes()
        self.graph_iris = {name: URIRef(GRAPH[name]) for name in NAMED_GRAPHS}
        self.info = StoreInfo(
            version=hashlib.sha256(data).hexdigest()[:16],
            modified=path.stat().st_mtime,
            triples={name: len(self.dataset.graph(iri)) for name, iri in self.graph_iris.items()},
            union_triples=len(self.dataset),
        )
        self._modified = self.info.modified
        self.revision = 0  # updates applied since loading (only when the operator enabled updates)

    @property
    def version(self) -> str:
        """Changes whenever the data does: with each build, and with each update applied in memory."""
        return self.info.version if not self.revision else f"{self.info.version}-r{self.revision}"

    @property
    def modified(self) -> float:
        return self._modified

    def changed(self) -> None:
        """Record that an update changed the data (new version, new Last-Modified)."""
        self.revision += 1
        self._modified = time.time()

    def graph(self, iri: str) -> Graph:
        return self.dataset.graph(URIRef(iri))

    def graph_names(self) -> set[URIRef]:
        """The IRIs a request may name as a default or named graph: the dataset's own graphs."""
        present = {_name(c) for c in self.dataset.store.contexts()} - {DATASET_DEFAULT_GRAPH_ID}
        return set(self.graph_iris.values()) | present

    def query(self, text: str) -> Result:
        # Evaluated whole under the lock: RDFLib's answers are lazy, and an update (run_update, under the same
        # lock) changing the in-memory store while a page's query iterates it would break the iteration.
        with rdflib_internals():
            result = self.dataset.query(text)
            if result.type == "SELECT":
                result.bindings  # noqa: B018 - reading them evaluates the query
            return result

    def rdflib_dataset(self) -> Dataset:
        return self.dataset

    @property
    def namespace_manager(self):
        return self.dataset.namespace_manager

    def answer(self, plan, job, settings):
        from exokg.server.engine import answer_with_rdflib

        return answer_with_rdflib(self.dataset, plan, job, settings)


class UnionGraph(Graph):
    """The RDF merge of some graphs of one store (all of them when ``identifiers`` is None), read-only.

    Each triple is yielded once however many of the graphs hold it, as an RDF merge requires.
    """

    def __init__(self, store, identifiers: Iterable[URIRef] | None):
        super().__init__(store=store, identifier=URIRef("urn:x-exokg:default-graph"))
        self._members = None if identifiers is None else frozenset(identifiers)

    def triples(self, triple):
        s, p, o = triple
        if isinstance(p, PropertyPath):
            for s_, o_ in p.eval(self, s, o):
                yield s_, p, o_
            return
        for found, contexts in self.store.triples((s, p, o), context=None):
            if self._members is None or any(_name(c) in self._members for c in contexts):
                yield found

    def __len__(self) -> int:
        return sum(1 for _ in self.triples((None, None, None)))

    def __contains__(self, triple) -> bool:
        return any(True for _ in self.triples(triple))

    def add(self, triple):
        raise TypeError("the default graph of a query is read-only")

    def remove(self, triple):
        raise TypeError("the default graph of a query is read-only")


def _name(context) -> URIRef:
    return getattr(context, "identifier", context)


class DatasetView(Dataset):
    """The RDF dataset of one request: a default graph and the named graphs it may see, over one store.

    ``default`` None means the union of all graphs; ``named`` None means every graph of the store.
    RDFLib's evaluator reaches graphs through ``contexts``/``graphs``, ``get_context``/``graph`` and
    ``default_context``; each is answered here from the chosen graphs only.
    """

    def __init__(self, store, default: Iterable[URIRef] | None = None, named: Iterable[URIRef] | None = None):
        super().__init__(store=store, default_union=False)
        self._named = None if named is None else tuple(dict.fromkeys(named))
        self._default_view = UnionGraph(store, default)

    def _named_iris(self) -> Iterator[URIRef]:
        if self._named is not None:
            yield from self._named
            return
        for context in self.store.contexts():
            name = _name(context)
            if name != DATASET_DEFAULT_GRAPH_ID:
                yield name

    def contexts(self, triple=None):
        for name in self._named_iris():
            graph = Graph(store=self.store, identifier=name)
            if triple is None or triple in graph:
                yield graph

    graphs = contexts

    def get_context(self, identifier, quoted: bool = False, base=None) -> Graph:
        if self._named is None or identifier in self._named:
            return Graph(store=self.store, identifier=identifier)
        return Graph(identifier=identifier)  # not in this dataset: an empty graph

    graph = get_context

    @property
    def default_context(self) -> Graph:
        return self._default_view

    @property
    def default_graph(self) -> Graph:
        return self._default_view


# --- Oxigraph -------------------------------------------------------------------------------------------

def write_store(directory: Path, trig: bytes) -> None:
    """Write the dataset (TriG bytes, named graphs kept) as an Oxigraph store in ``directory`` (new)."""
    import pyoxigraph as ox

    store = ox.Store(str(directory))
    store.bulk_load(trig, format=ox.RdfFormat.TRIG)
    store.optimize()
    store.flush()
    del store  # closes RocksDB before the build directory is swapped in


def to_rdflib(term):
    """A pyoxigraph term as the rdflib term it denotes (xsd:string literals become plain literals)."""
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"no rdflib equivalent for {term!r}")  # RDF 1.2 triple terms


def rdflib_result(answer) -> Result:
    """An Oxigraph query answer (boolean, solutions or triples) as an rdflib Result, for code written
    against rdflib: the pages, the CLI, and the remote backend's parsed answers."""
    import pyoxigraph as ox

    if isinstance(answer, ox.QueryBoolean):
        result = Result("ASK")
        result.askAnswer = bool(answer)
    elif isinstance(answer, ox.QuerySolutions):
        result = Result("SELECT")
        variables = [Variable(v.value) for v in answer.variables]
        result.vars = variables
        result.bindings = [{var: to_rdflib(value) for var, value in zip(variables, solution) if value is not None}
                           for solution in answer]
    else:
        result = Result("CONSTRUCT")
        graph = bind_prefixes(Graph())
        for triple in answer:
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        result.graph = graph
    return result


def _void_counts(void: bytes) -> dict[str, int]:
    """Triples per named graph IRI as the build's VoID states them (void:subset/dcterms:identifier)."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(void, format=ox.RdfFormat.TURTLE)
    rows = store.query("SELECT ?g ?n { ?part <http://purl.org/dc/terms/identifier> ?g ; "
                       "<http://rdfs.org/ns/void#triples> ?n }")
    counts = {row["g"].value: int(row["n"].value) for row in rows}
    for row in store.query(f"SELECT ?n {{ <{DATASET_IRI}> <http://rdfs.org/ns/void#triples> ?n }}"):
        counts[DATASET_IRI] = int(row["n"].value)
    return counts



_LIST_GRAPHS = """import sys, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
print("\\n".join(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)))"""


def _named_graphs_on_disk(path: Path, build_dir: Path) -> list[str]:
    """The named graphs of the on-disk store, read by a short-lived child process.

    This process may be gunicorn's master, which forks the workers next: once RocksDB has run in a
    process, its forked children crash (SIGSEGV) at exit, so the master never opens the store itself.
    """
    run = subprocess.run([sys.executable, "-c", _LIST_GRAPHS, str(path)], capture_output=True, text=True, timeout=120)
    if run.returncode:
        reason = (run.stderr.strip().splitlines() or ["unknown error"])[-1]  # RocksDB's own words
        raise DatasetMissing(f"{path}: cannot open the Oxigraph store ({reason}); "
                             f"run 'exokg build --out {build_dir}' again")
    return run.stdout.split()


class OxigraphStore:
    """The dataset in Oxigraph: in memory up to ``memory_triples`` triples, else the build's on-disk store.

    Oxigraph's in-memory storage answers several times faster than its RocksDB storage (docs/benchmarks.md:
    the Oxigraph server itself, in memory and on disk), so a dataset of at most ``memory_triples`` triples
    (as the build's VoID counts them) is loaded from ``exokg.trig`` when the store is opened — in gunicorn's
    master, before the fork, so workers and query processes share it copy-on-write. Loading costs about
    4 s and 0.5 GB per million triples; a bigger dataset is served from the on-disk store, ready at once.

    The RocksDB handle is opened per process (``os.getpid()``), lazily: the gunicorn master only checks
    that the store opens, and each worker and query process opens its own read-only handle, which
    RocksDB allows any number of processes to hold. Handles inherited through fork are never used.
    """

    engine = "oxigraph"
    endpoints: tuple[str, ...] = ()

    def __init__(self, build_dir: Path, memory_triples: int = 0):
        import pyoxigraph as ox

        self.build_dir = Path(build_dir)
        self.path = self.build_dir / STORE_DIR
        void_path = self.build_dir / VOID_FILE
        dump = self.build_dir / DATASET_FILE
        missing = [name for name in (VOID_FILE,) if not void_path.is_file()]
        if not self.path.is_dir() and not dump.is_file():
            missing.insert(0, DATASET_FILE)
        if missing:
            raise DatasetMissing(f"{self.build_dir}: missing {', '.join(missing)}; run 'exokg build --out {self.build_dir}' first")
        self._handles: dict[int, object] = {}
        self._lock, self._lock_owner = threading.Lock(), os.getpid()
        self._rdflib: Dataset | None = None
        self.void = void_path.read_bytes()
        self.graph_iris = {name: URIRef(GRAPH[name]) for name in NAMED_GRAPHS}
        try:
            counts = _void_counts(self.void)
        except (SyntaxError, ValueError) as exc:
            raise DatasetMissing(f"{void_path}: cannot parse the VoID description: {exc}") from exc
        if DATASET_IRI not in counts:
            raise DatasetMissing(f"{void_path}: the VoID description does not describe <{DATASET_IRI}>; "
                                 f"run 'exokg build --out {self.build_dir}' again")
        self.info = StoreInfo(
            # the VoID holds the sha256 of every dump, so its own hash changes with every different build
            version=hashlib.sha256(self.void).hexdigest()[:16],
            modified=void_path.stat().st_mtime,
            triples={name: counts.get(str(iri), 0) for name, iri in self.graph_iris.items()},
            union_triples=counts.get(DATASET_IRI, 0),
        )
        if self.path.is_dir():  # checked even when serving from memory: a damaged build is refused either way
            names = {URIRef(name) for name in _named_graphs_on_disk(self.path, self.build_dir)}
            if not names:
                raise DatasetMissing(f"{self.path}: the Oxigraph store holds no named graph; "
                                     f"run 'exokg build --out {self.build_dir}' again")
        if self.path.is_dir() and (self.info.union_triples > memory_triples or not dump.is_file()):
            self.in_memory = False
        else:
            self.in_memory = True
            if self.path.is_dir():
                log.info("loading %s (%d triples) into memory", dump, self.info.union_triples)
            else:
                log.warning("%s has no Oxigraph store (built before it was written); loading %s into memory — "
                            "rebuild with 'exokg build' to serve from disk", self.build_dir, DATASET_FILE)
            store = ox.Store()
            try:
                with open(dump, "rb") as data:
                    store.bulk_load(data, format=ox.RdfFormat.TRIG)
            except (SyntaxError, ValueError, OSError) as exc:
                raise DatasetMissing(f"{dump}: cannot parse the dataset: {exc}") from exc
            names = {URIRef(g.value) for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
            if not names:
                raise DatasetMissing(f"{dump}: the dataset holds no named graph; run 'exokg build --out {self.build_dir}'")
            self._memory = store  # shared with forked processes copy-on-write: no threads, no files
        self._graph_names = frozenset(set(self.graph_iris.values()) | names)

    version = property(lambda self: self.info.version)
    modified = property(lambda self: self.info.modified)
    storage = property(lambda self: "memory" if self.in_memory else "disk")  # /health

    @property
    def oxigraph(self):
        """This process's pyoxigraph Store (opened read-only on first use in each process)."""
        if self.in_memory:
            return self._memory
        pid = os.getpid()
        handle = self._handles.get(pid)
        if handle is None:
            import pyoxigraph as ox

            if self._lock_owner != pid:  # a lock copied by fork may have been held by another thread
                self._lock, self._lock_owner = threading.Lock(), pid
            with self._lock:
                handle = self._handles.get(pid)
                if handle is None:
                    handle = self._handles[pid] = ox.Store.read_only(str(self.path))
        return handle

    @property
    def namespace_manager(self):
        """The project's prefixes, for showing IRIs compactly (the CLI's tables)."""
        graph = bind_prefixes(Graph())
        return graph.namespace_manager

    def in_process(self) -> None:
        """Open this process's handle now (called in each query process), not on its first query."""
        self.oxigraph  # noqa: B018

    def graph_names(self) -> set[URIRef]:
        return set(self._graph_names)

    def query(self, text: str) -> Result:
        """Evaluate ``text`` by Oxigraph (default graph: the union; project prefixes predeclared) as an
        rdflib Result, for code written against rdflib (pages, the CLI)."""

        if _MAY_CALL_OUT.search(text):
            # Oxigraph would make the call itself, out of reach of any network guard: none is allowed here.
            from exokg.server.engine import parse_query
            from exokg.server.safety import check_query

            check_query(parse_query(text).algebra, ())
        try:
            answer = self.oxigraph.query(text, prefixes={p: str(ns) for p, ns in PREFIXES.items()},
                                         use_default_graph_as_union=True)
        except SyntaxError as exc:  # e.g. an IRI Oxigraph finds invalid (U+0080) where rdflib did not
            raise MalformedQuery(f"malformed query: {exc}") from exc
        # Oxigraph's lazy answers may only be dropped by the thread that made them: a traceback kept past
        # this call (by a logger, a test, another thread) would drop one elsewhere. So no exception raised
        # while reading the answer leaves this method; only its message does, once the answer is gone.
        failure = None
        try:
            return rdflib_result(answer)
        except (OSError, RuntimeError, ValueError) as exc:  # evaluation errors surface while iterating
            failure = f"query evaluation failed: {exc}"
        finally:
            del answer
        raise MalformedQuery(failure)

    def rdflib_dataset(self) -> Dataset:
        """The same data in rdflib, for the only queries Oxigraph must not run: allow-listed SERVICE calls
        (the query processes' network guard sees Python's sockets, not Oxigraph's)."""
        if self._rdflib is None:
            dump = self.build_dir / DATASET_FILE
            dataset = Dataset(default_union=True)
            with rdflib_internals():
                dataset.parse(data=dump.read_bytes(), format="trig")
            self._rdflib = dataset
        return self._rdflib

    def answer(self, plan, job, settings):
        from exokg.server.engine import answer_with_oxigraph

        return answer_with_oxigraph(self.oxigraph, plan, job, settings)


def open_store(build_dir: Path, updatable: bool = False, memory_triples: int = 0):
    """The store for ``build_dir``: Oxigraph (in memory up to ``memory_triples`` triples), or rdflib when
    updates must be applied to it."""
    return GraphStore(build_dir) if updatable else OxigraphStore(build_dir, memory_triples)


def init_app(app) -> None:
    """Open the dataset once at start-up; a missing or corrupt dataset stops the app from starting.

    A backend made elsewhere (``exokg serve --backend``) is passed as ``EXOKG_BACKEND_STORE`` in the
    app's configuration and used as is; it must offer the attributes and methods of :class:`OxigraphStore`.
    """
    settings = app.config["EXOKG_SETTINGS"]
    store = app.config.get("EXOKG_BACKEND_STORE")
    if store is None:
        store = open_store(Path(settings.data), updatable=settings.updates_enabled,
                           memory_triples=settings.memory_triples)
        if settings.service_allowlist and store.engine != "rdflib":
            store.rdflib_dataset()  # parsed before the fork, shared by every query process
    app.extensions["exokg.store"] = store


def current_store() -> OxigraphStore | GraphStore:
    from flask import current_app

    return current_app.extensions["exokg.store"]
