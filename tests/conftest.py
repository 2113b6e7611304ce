"""Shared fixtures: one build of the review graph per test session, and the union graph it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from exokg.build import build
from exokg.config import PREFIXES

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    """The review graph built once into a temporary directory."""
    out = tmp_path_factory.mktemp("exokg") / "build"
    build(out)
    return out


@pytest.fixture(scope="session")
def union(build_dir) -> Graph:
    graph = Graph()
    graph.parse(build_dir / "exokg.nt", format="nt")
    return graph


def select(graph: Graph, query: str) -> list[tuple[str, ...]]:
    """Rows of a SELECT as tuples of plain strings (IRIs and literals alike)."""
    return [tuple("" if v is None else str(v) for v in row) for row in graph.query(SPARQL_PREFIXES + query)]


@pytest.fixture(scope="module")
def app(build_dir):
    """The endpoint over the session's build, with its query processes closed after the module."""
    from exokg.server.app import create_app
    from exokg.server.workers import close_pool

    app = create_app({"EXOKG_DATA": str(build_dir), "TESTING": True})
    yield app
    close_pool(app)


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()
