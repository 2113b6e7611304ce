"""Pages for people: the overview with its charts, the downloads, how to cite, and the dump files.

- ``/`` and ``/overview``: counts, findings by therapy context × cargo type (an SVG heat map), the cargos
  and targets named by the most findings (SVG bar charts). Two SPARQL queries, cached per store version.
- ``/downloads``: every dump of the build directory with size, triple count, SHA-256, license, the VoID
  description and the ontology's formats; ``/dumps/<file>`` (and ``/download/<file>``, the path of the
  dumps' IRIs in the VoID description) serve those files and no others.
- ``/cite``: the dataset, its version and the review it comes from (the repository's CITATION.cff says
  the same).

Graph data is read only through ``current_store().query(SPARQL)`` (and the store's VoID bytes).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, defaultdict
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_file
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, VOID

from exokg import __version__
from exokg.build import DUMPS
from exokg.config import BASE, DATASET_IRI, EXO, LICENSE
from exokg.server import charts
from exokg.server.entity import SPARQL_PREFIXES, href
from exokg.server.http import text_error
from exokg.server.search import KINDS, index
from exokg.server.store import VOID_FILE, current_store


blueprint = Blueprint("pages", __name__)

TOP = 15  # bars per chart
# The cargo type a finding is counted under: the first of these its cargo has (most specific first).
CARGO_TYPES = ("MicroRNA", "LncRNA", "CircRNA", "SmallNuclearRNA", "MessengerRNA", "NonCodingRNA", "RNA", "DNA",
               "NucleicAcid", "Protein", "Gene", "Lipid", "Drug", "UnspecifiedCargo", "MolecularEntity")
MEDIA_TYPES = {"trig": "application/trig", "nquads": "application/n-quads", "nt": "application/n-triples",
               "turtle": "text/turtle", "json-ld": "application/ld+json", "xml": "application/rdf+xml",
               "owl-xml": "application/owl+xml", "sssom-tsv": "text/tab-separated-values",
               "kgx-tsv": "text/tab-separated-values"}
FILES = {**{name: fmt for name, (fmt, _) in DUMPS.items()}, VOID_FILE: "turtle"}  # the only files served
DESCRIPTIONS = {**{name: what for name, (_, what) in DUMPS.items()}, VOID_FILE: "the VoID and DCAT description of the dataset"}

_lock = threading.Lock()


@blueprint.app_context_processor
def _globals() -> dict:
    return {"exokg_version": __version__}


@blueprint.app_template_filter("href")
def _href(iri: str) -> str:
    return href(str(iri))


def _cached(name: str, compute):
    """``compute()`` once per store version (pages are read far more often than the data changes)."""
    store = current_store()
    cache = current_app.extensions.setdefault("exokg.pages", {})
    key = (name, id(store), store.version)
    with _lock:
        if key in cache:
            return cache[key]
    value = compute()
    with _lock:
        for old in [k for k in cache if k[0] == name]:
            del cache[old]
        cache[key] = value
    return value


def _finish(response: Response, tag: str) -> Response:
    store = current_store()
    response.set_etag(f"{store.version}-{tag}")
    response.last_modified = store.modified
    return response.make_conditional(request)


# --- overview ---------------------------------------------------------------------------------------------

def context_by_cargo_type() -> dict:
    """Findings counted per (therapy context, cargo type): rows, columns and counts for the heat map."""
    values = " ".join(f"exo:{t}" for t in CARGO_TYPES)
    query = SPARQL_PREFIXES + f"""
SELECT ?f ?ctx ?ctxlabel ?m ?t ?tlabel ?unspecified WHERE {{
  ?f exo:hasContext ?ctx . FILTER(STRSTARTS(STR(?f), "{BASE}finding/"))
  OPTIONAL {{ ?ctx rdfs:label ?ctxlabel }}
  {{ ?f exo:hasCargo ?m . ?m a ?t . VALUES ?t {{ {values} }} OPTIONAL {{ ?t rdfs:label ?tlabel }} }}
  UNION {{ ?f exo:cargoUnspecified ?unspecified }}
}}"""
    types: dict[tuple[str, str], list[str]] = defaultdict(list)  # (finding, cargo) → its listed types
    contexts: dict[str, str] = {}
    type_labels = {"UnspecifiedCargo": "unspecified cargo"}
    by_finding: dict[str, set[str]] = defaultdict(set)
    for row in current_store().query(query):
        ctx = str(row.ctx)
        contexts[ctx] = str(row.ctxlabel) if row.ctxlabel is not None else ctx.rsplit("/", 1)[-1]
        by_finding[str(row.f)].add(ctx)
        if row.m is not None:
            name = str(row.t)[len(str(EXO)):]
            types[(str(row.f), str(row.m))].append(name)
            if row.tlabel is not None:
                type_labels[name] = str(row.tlabel)
        else:
            types[(str(row.f), "")].append("UnspecifiedCargo")
    counted: dict[tuple[str, str], set[str]] = defaultdict(set)  # (context, type) → findings
    for (finding, _), names in types.items():
        kind = min(names, key=CARGO_TYPES.index)
        for ctx in by_finding[finding]:
            counted[(ctx, kind)].add(finding)
    used_types = [t for t in CARGO_TYPES if any(k == t for _, k in counted)]
    ctx_order = sorted(contexts, key=lambda c: contexts[c].casefold())
    return {
        "rows": [(c, contexts[c]) for c in ctx_order],
        "columns": [(t, type_labels.get(t, t)) for t in used_types],
        "counts": {(i, j): len(counted[(c, t)]) for i, c in enumerate(ctx_order) for j, t in enumerate(used_types)
                   if counted.get((c, t))},
        "findings": len(by_finding),
    }


def most_connected() -> dict[str, list[tuple[str, str, int]]]:
    """The cargos and the targets named by the most findings: role → [(IRI, label, findings)]."""
    query = SPARQL_PREFIXES + f"""
SELECT ?role ?x (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?f) AS ?n) WHERE {{
  {{ ?f exo:hasCargo ?x BIND("cargo" AS ?role) }} UNION {{ ?f exo:hasTarget ?x BIND("target" AS ?role) }}
  UNION {{ ?f exo:actsThroughPathway ?x BIND("pathway" AS ?role) }}
  FILTER(STRSTARTS(STR(?f), "{BASE}finding/"))
  OPTIONAL {{ ?x rdfs:label ?l }}
}} GROUP BY ?role ?x"""
    roles: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for row in current_store().query(query):
        iri = str(row.x)
        roles[str(row.role)].append((iri, str(row.label) if row.label is not None else iri, int(row.n)))
    return {role: sorted(items, key=lambda t: (-t[2], t[1].casefold()))[:TOP] for role, items in roles.items()}


def _overview_data() -> dict:
    matrix = context_by_cargo_type()
    top = most_connected()
    counts = Counter(entry.kind for entry in index().values())
    return {"matrix": matrix, "top": top, "counts": [(k, KINDS[k], counts[k]) for k in KINDS if counts.get(k)]}


@blueprint.route("/", methods=["GET"], endpoint="home")
@blueprint.route("/overview", methods=["GET"])
def overview() -> Response:
    data = _cached("overview", _overview_data)
    matrix = data["matrix"]
    heat = charts.heat_map(
        "Findings by therapy context and cargo type",
        [charts.Item(label, href(iri)) for iri, label in matrix["rows"]],
        [charts.Item(label, href(str(EXO) + t)) for t, label in matrix["columns"]],
        matrix["counts"],
    )
    bars = {role: charts.bar_chart(f"The {role}s named by the most findings",
                                   [charts.Item(label, href(iri), n) for iri, label, n in items])
            for role, items in data["top"].items()}
    store = current_store()
    body = render_template("overview.html", heat=heat, bars=bars, counts=data["counts"], findings=matrix["findings"],
                           triples=sum(store.info.triples.values()), graphs=store.info.triples)
    return _finish(Response(body, mimetype="text/html"), "overview")


# --- downloads ---------------------------------------------------------------------------------------------

def _data_dir() -> Path:
    return Path(current_app.config["EXOKG_SETTINGS"].data)


def _sha256(path: Path) -> str:
    stat = path.stat()
    cache = current_app.extensions.setdefault("exokg.sha256", {})
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        cache[key] = digest.hexdigest()
    return cache[key]


def _void() -> Graph:
    return Graph().parse(data=current_store().void, format="turtle")


def dump_rows() -> list[dict]:
    """Each dump present in the build directory with what the downloads page says about it."""
    store = current_store()
    void = _void()
    union = void.value(URIRef(DATASET_IRI), VOID.triples)
    per_graph = store.info.triples
    rows = []
    for name, fmt in FILES.items():
        path = _data_dir() / name
        if not path.is_file():
            continue
        if name == VOID_FILE:
            triples, unit = len(void), "triples"
        elif fmt in ("trig", "nquads"):
            triples, unit = sum(per_graph.values()), "quads"
        elif name.startswith("ontology."):
            triples, unit = per_graph.get("ontology"), "triples"
        elif fmt.endswith("-tsv"):
            with open(path, encoding="utf-8") as handle:
                lines = [line for line in handle if line.strip() and not line.startswith("#")]
            triples, unit = max(len(lines) - 1, 0), "rows"
        else:
            triples, unit = int(union) if union is not None else None, "triples"
        rows.append({"name": name, "format": fmt, "media_type": MEDIA_TYPES.get(fmt, "application/octet-stream"),
                     "bytes": path.stat().st_size, "sha256": _sha256(path), "count": triples, "unit": unit,
                     "description": DESCRIPTIONS[name]})
    return rows


@blueprint.route("/downloads", methods=["GET"])
def downloads() -> Response:
    void = _void()
    license_ = void.value(URIRef(DATASET_IRI), DCTERMS.license)
    body = render_template("downloads.html", rows=dump_rows(), license=str(license_ or LICENSE),
                           version=current_store().version)
    return _finish(Response(body, mimetype="text/html"), "downloads")


@blueprint.route("/dumps/<name>", methods=["GET"], endpoint="dump")
@blueprint.route("/download/<name>", methods=["GET"])
def dump_file(name: str) -> Response:
    if name not in FILES:  # only the known names: nothing else of the directory is reachable
        return text_error(404, f"no dump called {name!r}; dumps: {', '.join(FILES)}")
    path = _data_dir() / name
    if not path.is_file():
        return text_error(404, f"the dump {name} is not part of this build")
    response = send_file(path, mimetype=MEDIA_TYPES.get(FILES[name], "application/octet-stream"),
                         download_name=name, conditional=True, etag=_sha256(path))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- cite --------------------------------------------------------------------------------------------------

@blueprint.route("/cite", methods=["GET"])
def cite() -> Response:
    store = current_store()
    void = _void()
    license_ = void.value(URIRef(DATASET_IRI), DCTERMS.license)
    bibtex = ("@misc{exokg,\n  title = {exokg: tumor-derived small extracellular vesicles in glioma},\n"
              "  author = {{exokg contributors}},\n  version = {" + __version__ + "},\n"
              "  howpublished = {\\url{" + DATASET_IRI + "}},\n  note = {Knowledge graph, license CC BY 4.0}\n}")
    body = render_template("cite.html", version=__version__, build=store.version, license=str(license_ or LICENSE),
                           dataset=DATASET_IRI, bibtex=bibtex)
    return _finish(Response(body, mimetype="text/html"), "cite")
