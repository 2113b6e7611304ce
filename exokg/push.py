"""``exokg push``: load the built dataset, named graphs included, into another triple store.

Any store that speaks the SPARQL 1.1 Graph Store HTTP Protocol takes it: each graph of the build is
sent with one ``PUT <graph-store>?graph=<IRI>`` (``?default`` for the default graph), which replaces
that graph in the store and leaves the store's other graphs alone. Afterwards the store's own SPARQL
endpoint is asked how many triples each graph holds, so the summary says what the store has, not only
what was sent. Specs: https://www.w3.org/TR/sparql11-http-rdf-update/ and
https://www.w3.org/TR/sparql11-protocol/.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from exokg.config import GRAPH, NAMED_GRAPHS

DATASET_FILE = "exokg.trig"
FORMATS = {  # --format → (Oxigraph serializer, Content-Type of the PUT)
    "nt": ("N_TRIPLES", "application/n-triples"),
    "turtle": ("TURTLE", "text/turtle"),
}
TIMEOUT = 600  # seconds for one request: a large graph takes a while to load into some stores


class PushError(Exception):
    """The push could not be done or did not arrive whole; the message says which request and why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the store's HTTP status, when it answered


@dataclass
class GraphReport:
    iri: str | None  # None: the default graph
    sent: int  # triples sent
    status: int = 0  # the store's HTTP status for the PUT
    stored: int | None = None  # triples the store's endpoint counts afterwards (None: not checked)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"<{self.iri}>" if self.iri else "default graph"


@dataclass
class PushReport:
    graph_store: str
    graphs: list[GraphReport] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(g.stored is None or g.stored == g.sent for g in self.graphs)

    def lines(self) -> list[str]:
        out = []
        for g in self.graphs:
            stored = "" if g.stored is None else f", the store counts {g.stored}"
            out.append(f"{g.name}: {g.sent} triples sent, HTTP {g.status}{stored} ({g.seconds:.1f} s)")
        return out


class Client:
    """HTTP to one store, with Basic or Digest credentials (whichever it asks for) or a bearer token.

    Credentials are sent up front: a store that first answers 401 to a large PUT may close the connection
    while the body is still being sent (Virtuoso does), which the client sees as a broken pipe. So the
    request with a body is preceded by a HEAD that fetches a fresh challenge (Virtuoso takes each Digest
    nonce once), and carries its own Authorization (RFC 7617 Basic, RFC 7616 Digest by urllib's handler).
    """

    def __init__(self, urls: tuple[str, ...] = (), user: str | None = None, password: str | None = None,
                 token: str | None = None):
        handlers = []
        self._digest = self._challenge = None
        if user is not None:  # answered only to the store's own URLs
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(None, list(urls), user, password or "")
            self._basic = urllib.request.HTTPBasicAuthHandler(passwords)
            self._digest = urllib.request.HTTPDigestAuthHandler(passwords)
            handlers += [self._basic, self._digest]
        self._opener = urllib.request.build_opener(*handlers)
        self._token = token

    def _authorization(self, request: urllib.request.Request) -> str | None:
        """The Authorization header for ``request``, from the store's challenge (asked for by HEAD)."""
        if self._challenge is None or self._challenge[0] == "digest":
            probe = urllib.request.Request(request.full_url, method="HEAD")
            try:
                with urllib.request.urlopen(probe, timeout=TIMEOUT):
                    self._challenge = ("none", {})
            except urllib.error.HTTPError as exc:
                header = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
                scheme, _, rest = header.partition(" ")
                fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest)) if rest else {}
                self._challenge = (scheme.lower() or "none", fields)
            except (urllib.error.URLError, OSError, ValueError):
                return None  # the request itself will report it
        scheme, fields = self._challenge
        if scheme == "digest":
            return self._digest.get_authorization(request, fields)
        if scheme == "basic":
            user, password = self._basic.passwd.find_user_password(fields.get("realm"), request.full_url)
            if user is not None:
                return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return None

    def send(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        """(status, body) of a 2xx answer; anything else raises PushError naming the request."""
        headers = dict(headers or {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        if self._digest is not None and body is not None:
            authorization = self._authorization(request)
            if authorization:
                request.add_unredirected_header("Authorization", authorization)
        try:
            with self._opener.open(request, timeout=TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()[:500]
            raise PushError(f"{method} {url}: HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else ""),
                            exc.code) from exc
        except urllib.error.URLError as exc:
            raise PushError(f"{method} {url}: cannot connect: {exc.reason}") from exc
        except (OSError, ValueError) as exc:  # reset connections, timeouts, a malformed URL
            raise PushError(f"{method} {url}: {exc}") from exc


def graph_url(graph_store: str, iri: str | None) -> str:
    """The Graph Store Protocol URL of one graph: indirect identification (?graph=IRI, or ?default)."""
    separator = "&" if urllib.parse.urlsplit(graph_store).query else "?"
    if iri is None:
        return f"{graph_store}{separator}default"
    return f"{graph_store}{separator}{urllib.parse.urlencode({'graph': iri})}"


def load_build(data: Path) -> dict[str | None, list]:
    """The build's triples per graph (None: the default graph), ours first in build order, then any other.

    Parsed with Oxigraph's parser: it keeps up with builds of millions of triples, where rdflib's does not.
    """
    import pyoxigraph as ox

    path = Path(data) / DATASET_FILE
    if not path.is_file():
        raise PushError(f"{path}: missing; run 'exokg build --out {data}' first")
    graphs: dict[str | None, list] = {str(GRAPH[name]): [] for name in NAMED_GRAPHS}
    try:
        for quad in ox.parse(path=path, format=ox.RdfFormat.TRIG):
            name = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            graphs.setdefault(name, []).append(quad.triple)
    except (SyntaxError, ValueError, OSError) as exc:
        raise PushError(f"{path}: cannot parse the dataset: {exc}") from exc
    return {name: triples for name, triples in graphs.items() if triples}


def count_query(iri: str | None) -> str:
    if iri is None:
        # a store's default graph may be the union of its graphs: only an explicit count is comparable
        return "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"


def count_in_store(client: Client, endpoint: str, iri: str | None) -> int:
    """Triples in one graph of the store, by its SPARQL query endpoint (SPARQL 1.1 Protocol, POST form)."""
    body = urllib.parse.urlencode({"query": count_query(iri)}).encode()
    _, answer = client.send("POST", endpoint, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                     "Accept": "application/sparql-results+json"})
    try:
        return int(json.loads(answer)["results"]["bindings"][0]["n"]["value"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise PushError(f"{endpoint}: not a SPARQL JSON answer to a COUNT query: {answer[:200]!r}") from exc


def push(data: Path, endpoint: str, graph_store: str | None = None, fmt: str = "nt", client: Client | None = None,
         verify: bool = True, log=lambda line: None) -> PushReport:
    """Send every graph of the build in ``data`` to the store; raises PushError on the first failure.

    ``endpoint`` is the store's SPARQL query endpoint (used to count afterwards) and, unless
    ``graph_store`` is given, also its Graph Store Protocol endpoint.
    """
    import pyoxigraph as ox

    client = client or Client()
    graph_store = graph_store or endpoint
    serializer, media_type = FORMATS[fmt]
    report = PushReport(graph_store)
    for iri, triples in load_build(data).items():
        started = time.perf_counter()
        body = ox.serialize(triples, format=getattr(ox.RdfFormat, serializer))
        try:
            status, _ = client.send("PUT", graph_url(graph_store, iri), body, {"Content-Type": media_type})
        except PushError as exc:
            if exc.status in (400, 404, 405, 415) and graph_store == endpoint:
                raise PushError(f"{exc}\n(is {endpoint} the store's Graph Store Protocol endpoint? if it "
                                "has another, name it with --graph-store URL)", exc.status) from exc
            raise
        entry = GraphReport(iri, len(triples), status, seconds=time.perf_counter() - started)
        if verify and iri is not None:
            entry.stored = count_in_store(client, endpoint, iri)
        report.graphs.append(entry)
        log(report.lines()[-1])
    return report
