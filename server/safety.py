"""What a request may make the server do: nothing outside its own dataset.

RDFLib, left alone, fetches the document behind every FROM / FROM NAMED / USING IRI it does not hold
and LOAD IRI, and calls any SERVICE endpoint (see RDFLib's "Security Considerations"). So a query
could make this server connect anywhere its network reaches (server-side request forgery). Two
layers stop that:

1. :func:`check_query` / :func:`check_update` refuse, before evaluation, SERVICE to an endpoint not on
   the operator's allow-list (empty by default), LOAD, and dataset IRIs outside the store; the engine
   never hands RDFLib a dataset clause, so it has nothing to fetch.
2. :func:`install_network_guard` adds a Python audit hook (PEP 578) to each query process that
   refuses any URL opening and any TCP connection except to allow-listed endpoints, in case a path
   through RDFLib was missed. Audit hooks cannot be removed: it is installed only in those processes.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from rdflib import URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue


class Refused(Exception):
    """The request asks for something this server never does; answered 403 with ``message``."""

    status = 403

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _nodes(node) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _nodes(value)


def endpoint_key(url: str) -> str:
    """An endpoint URL without its query string or fragment, for comparing with the allow-list."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def _check_services(algebra, allowlist: Iterable[str]) -> None:
    allowed = {endpoint_key(e) for e in allowlist}
    for node in _nodes(algebra):
        if node.name != "ServiceGraphPattern":
            continue
        term = dict.get(node, "term")
        if isinstance(term, Variable):
            raise Refused(f"SERVICE {term.n3()}: this endpoint calls only the endpoints its operator allowed, named by IRI")
        if endpoint_key(str(term)) not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise Refused(f"SERVICE <{term}>: this endpoint does not call other services except those its operator allowed ({listed})")


def check_dataset(iris: Iterable[URIRef], graphs: set[URIRef], what: str) -> None:
    """Refuse dataset IRIs (FROM, default-graph-uri, ...) that are not graphs of this store."""
    outside = [str(iri) for iri in iris if URIRef(iri) not in graphs]
    if outside:
        own = ", ".join(f"<{g}>" for g in sorted(graphs))
        raise Refused(
            f"{what} {', '.join(f'<{i}>' for i in outside)}: this endpoint fetches nothing; "
            f"a dataset may only be made of its own graphs: {own}"
        )


def check_query(algebra, allowlist: Iterable[str]) -> None:
    """Refuse a translated query that would make the server call a SERVICE it was not allowed."""
    _check_services(algebra, allowlist)


def check_update(update, allowlist: Iterable[str]) -> None:
    """Refuse LOAD (it fetches a document) and disallowed SERVICE calls in an update request."""
    for operation in update.algebra:
        if operation.name == "Load":
            raise Refused(f"LOAD <{dict.get(operation, 'iri')}>: this endpoint never fetches documents")
        _check_services(operation, allowlist)


def install_network_guard(allowlist: Iterable[str]) -> None:
    """Refuse, for the rest of this process, URL opening and TCP connections except to ``allowlist``."""
    allowed_urls = {endpoint_key(e) for e in allowlist}
    allowed_addresses = set()
    for endpoint in allowlist:
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            for *_, address in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
                allowed_addresses.add((address[0], address[1]))
        except OSError:
            continue  # an allow-listed host that does not resolve stays unreachable

    def hook(event: str, args: tuple) -> None:
        if event == "urllib.Request":
            url = args[0]
            if endpoint_key(url) not in allowed_urls:
                raise PermissionError(f"exokg query process: opening {url} is not allowed")
        elif event == "socket.connect":
            sock, address = args
            if sock.family in (socket.AF_INET, socket.AF_INET6) and tuple(address[:2]) not in allowed_addresses:
                raise PermissionError(f"exokg query process: connecting to {address} is not allowed")

    sys.addaudithook(hook)
