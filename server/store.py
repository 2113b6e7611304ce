"""The built dataset, loaded read-only for querying (by the CLI and the endpoint).

The dataset's default graph is the union of its named graphs (ontology, asserted, inferred), so a query
without FROM sees everything; ``default-graph-uri`` / ``named-graph-uri`` pick among the named graphs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result

from exokg.config import GRAPH, NAMED_GRAPHS, PREFIXES

DATASET_FILE = "exokg.trig"
REQUIRED_FILES = (DATASET_FILE, "void.ttl")


class DatasetMissing(RuntimeError):
    """The build directory lacks the dataset or it cannot be parsed: run ``exokg build`` first."""


@dataclass(frozen=True)
class StoreInfo:
    version: str  # sha256 prefix of the dataset file: changes with every different build
    triples: dict[str, int]


class GraphStore:
    def __init__(self, build_dir: Path):
        self.build_dir = Path(build_dir)
        missing = [name for name in REQUIRED_FILES if not (self.build_dir / name).is_file()]
        if missing:
            raise DatasetMissing(f"{self.build_dir}: missing {', '.join(missing)}; run 'exokg build --out {self.build_dir}' first")
        data = (self.build_dir / DATASET_FILE).read_bytes()
        self.dataset = Dataset(default_union=True)
        for prefix, namespace in PREFIXES.items():
            self.dataset.bind(prefix, namespace, override=True)
        try:
            self.dataset.parse(data=data, format="trig")
        except Exception as exc:  # rdflib raises several unrelated types for a corrupt file
            raise DatasetMissing(f"{self.build_dir / DATASET_FILE}: cannot parse the dataset: {exc}") from exc
        self.graph_iris = {name: URIRef(GRAPH[name]) for name in NAMED_GRAPHS}
        self.info = StoreInfo(
            version=hashlib.sha256(data).hexdigest()[:16],
            triples={name: len(self.dataset.graph(iri)) for name, iri in self.graph_iris.items()},
        )

    def graph(self, iri: str) -> Graph:
        return self.dataset.graph(URIRef(iri))

    def query(self, text: str) -> Result:
        return self.dataset.query(text)


def init_app(app) -> None:
    """Load the dataset once at start-up; a missing or corrupt dataset stops the app from starting."""
    app.extensions["exokg.store"] = GraphStore(Path(app.config["EXOKG_DATA"]))


def current_store() -> GraphStore:
    from flask import current_app

    return current_app.extensions["exokg.store"]
