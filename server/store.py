"""The built dataset, loaded for querying (by the CLI and the endpoint), and the per-query views of it.

The dataset's default graph is the union of its named graphs (ontology, asserted, inferred), so a query
without FROM sees everything. A SPARQL 1.1 Protocol request may instead pick its own RDF dataset among
the store's graphs (``default-graph-uri`` / ``named-graph-uri``, or FROM / FROM NAMED in the query):
:class:`DatasetView` presents exactly that dataset to RDFLib's evaluator without copying any triple.
See https://www.w3.org/TR/sparql11-protocol/#dataset and https://www.w3.org/TR/sparql11-query/#specifyingDataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.paths import Path as PropertyPath
from rdflib.query import Result

from exokg.config import GRAPH, NAMED_GRAPHS, PREFIXES

DATASET_FILE = "exokg.trig"
VOID_FILE = "void.ttl"
REQUIRED_FILES = (DATASET_FILE, VOID_FILE)

# RDFLib 7.x deprecates the Dataset API that its own parser and SPARQL evaluator still call; these
# warnings are RDFLib's business, not a sign of a problem in ours, so they are silenced by message.
_RDFLIB_DEPRECATIONS = (
    r"ConjunctiveGraph is deprecated",
    r"Dataset\.default_context is deprecated",
    r"Dataset\.contexts is deprecated",
    r"Dataset\.identifier is deprecated",
)


@contextlib.contextmanager
def rdflib_internals():
    """Run RDFLib code that triggers RDFLib's own deprecation warnings, without them."""
    with warnings.catch_warnings():
        for message in _RDFLIB_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
        yield


class DatasetMissing(RuntimeError):
    """The build directory lacks the dataset or it cannot be parsed: run ``exokg build`` first."""


@dataclass(frozen=True)
class StoreInfo:
    version: str  # sha256 prefix of the dataset file: changes with every different build
    modified: float  # the dataset file's modification time (seconds since the epoch)
    triples: dict[str, int]  # named graph name → triples


class GraphStore:
    def __init__(self, build_dir: Path):
        self.build_dir = Path(build_dir)
        missing = [name for name in REQUIRED_FILES if not (self.build_dir / name).is_file()]
        if missing:
            raise DatasetMissing(f"{self.build_dir}: missing {', '.join(missing)}; run 'exokg build --out {self.build_dir}' first")
        path = self.build_dir / DATASET_FILE
        data = path.read_bytes()
        self.dataset = Dataset(default_union=True)
        for prefix, namespace in PREFIXES.items():
            self.dataset.bind(prefix, namespace, override=True)
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
        with rdflib_internals():
            return self.dataset.query(text)


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


def init_app(app) -> None:
    """Load the dataset once at start-up; a missing or corrupt dataset stops the app from starting."""
    app.extensions["exokg.store"] = GraphStore(Path(app.config["EXOKG_SETTINGS"].data))


def current_store() -> GraphStore:
    from flask import current_app

    return current_app.extensions["exokg.store"]
