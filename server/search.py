"""Search and browse, as EV-database users expect them (ExoCarta, Vesiclepedia): one box, lists per kind.

``/search?q=`` finds cargos, genes, cells, cell lines, pathways, processes and findings by label, synonym
(``skos:altLabel``), cross-reference (``oboInOwl:hasDbXref`` CURIE, the ``skos:*Match`` IRI and the label
the graph imports for it) or identifier, ignoring case and punctuation: ``U-87 MG``, ``U87`` and ``u87mg``
meet, ``CVCL_0022`` finds the cell line mapped to Cellosaurus CVCL_0022. A mature-miRNA name is also
tried without its species prefix and arm (``hsa-miR-21-5p`` → ``miR-21``), because the review names
miRNAs without them. Answers are HTML, or JSON for scripts (``Accept: application/json`` or ``format=json``).

``/browse/<kind>`` lists every entity minted under ``BASE + kind + "/"`` with its types and the number of
findings that mention it, as HTML or as CSV/TSV (``/browse/<kind>.csv``, ``.tsv``, or ``format=``).

The search index is built with one SPARQL query through ``current_store().query`` and kept per store
version, so any backend serves it.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import unicodedata
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from exokg.config import BASE, EXO, IRI_SEGMENTS
from exokg.server.entity import SPARQL_PREFIXES, href
from exokg.server.http import text_error
from exokg.server.store import current_store


blueprint = Blueprint("search", __name__)

MAX_RESULTS = 50
MAX_QUERY_CHARS = 200
KINDS = {  # IRI segment → what the lists call it, in the order the browse index shows them
    "molecule": "Cargos, genes and other molecules",
    "population": "Cell populations (donor and receiving cells)",
    "cell-line": "Cell lines",
    "pathway": "Pathways",
    "process": "Biological processes",
    "finding": "Findings",
    "vesicle": "Vesicles",
    "drug": "Drugs",
    "disease": "Diseases",
    "body-fluid": "Body fluids",
    "biomarker": "Biomarker claims",
    "claim": "Vesicle biology claims",
    "component": "Cellular components",
    "reference": "References of the review",
    "source": "Sections of the review",
    "net-effect": "Net effects composed along signed steps",
    "conflict": "Sign conflicts",
}
assert set(KINDS) == set(IRI_SEGMENTS.values())
MATCHES = "skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch|skos:relatedMatch"
# Species prefix and arm of a mature miRNA name (miRBase nomenclature: hsa-miR-21-5p).
MIRNA = re.compile(r"^(?:[a-z]{3,4}[-_ ])?((?:mir|let)[-_ ]?[0-9a-z]+(?:[-_ ]\d+)?)(?:[-_ ][35]p)?$", re.IGNORECASE)


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: letters and digits only, lower case."""
    text = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def query_forms(q: str) -> list[str]:
    """The normalized forms a query is matched with: itself, and a miRNA's name without species and arm."""
    forms = [normalize(q)]
    m = MIRNA.match(q.strip())
    if m:
        forms.append(normalize(m.group(1)))
    return [f for f in dict.fromkeys(forms) if f]


def kind_of(iri: str) -> str | None:
    """The segment of a minted IRI of one of the listed kinds (not a finding's nested nodes)."""
    if not iri.startswith(BASE):
        return None
    segment, _, rest = iri[len(BASE):].partition("/")
    if segment in KINDS and rest and "/" not in rest:
        return segment
    if segment == "vocab" and rest and "/" not in rest:
        return "vocab"
    return None


@dataclass
class Entry:
    iri: str
    kind: str
    label: str = ""
    types: set[str] = field(default_factory=set)
    texts: list[tuple[str, str, str]] = field(default_factory=list)  # (normalized, shown, how it is known)


INDEX_QUERY = SPARQL_PREFIXES + f"""
SELECT ?s ?text ?how WHERE {{
  {{ ?s rdfs:label ?text BIND("label" AS ?how) }}
  UNION {{ ?s skos:altLabel ?text BIND("synonym" AS ?how) }}
  UNION {{ ?s oboInOwl:hasExactSynonym ?text BIND("synonym" AS ?how) }}
  UNION {{ ?s dcterms:identifier ?text BIND("identifier" AS ?how) }}
  UNION {{ ?s oboInOwl:hasDbXref ?text BIND("cross-reference" AS ?how) }}
  UNION {{ ?s {MATCHES} ?m . BIND(STR(?m) AS ?text) BIND("cross-reference" AS ?how) }}
  UNION {{ ?s {MATCHES} ?m . ?m rdfs:label ?text BIND("cross-reference label" AS ?how) }}
  UNION {{ ?s a ?t . FILTER(STRSTARTS(STR(?t), "{EXO}")) BIND(STR(?t) AS ?text) BIND("type" AS ?how) }}
  FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}"))
}}"""

_lock = threading.Lock()


def index() -> dict[str, Entry]:
    """Every searchable entity of the current store, rebuilt when the store's version changes."""
    store = current_store()
    cache = current_app.extensions.setdefault("exokg.search", {})
    key = (id(store), store.version)
    with _lock:
        if cache.get("key") == key:
            return cache["entries"]
    entries: dict[str, Entry] = {}
    for row in store.query(INDEX_QUERY):
        iri, text, how = str(row.s), str(row.text), str(row.how)
        kind = kind_of(iri)
        if kind is None:
            continue
        entry = entries.setdefault(iri, Entry(iri, kind))
        if how == "type":
            entry.types.add(text)
            continue
        if how == "label" and not entry.label:
            entry.label = text
        forms = {normalize(text)}
        if how == "cross-reference":  # the identifier alone: CVCL_0022 of cellosaurus:CVCL_0022 or of an IRI
            local = re.split(r"[/#:]", text)[-1]
            forms |= {normalize(local), normalize(local.split("_", 1)[-1]) if "_" in local else ""}
        entry.texts += [(form, text, how) for form in forms if form]
    for entry in entries.values():
        entry.label = entry.label or entry.iri[len(BASE):]
    with _lock:
        cache.update(key=key, entries=entries)
    return entries


@dataclass
class Hit:
    entry: Entry
    score: int
    matched: str
    how: str


def search(q: str, limit: int = MAX_RESULTS) -> list[Hit]:
    """Entities ranked: exact match, then prefix, then substring; labels before synonyms and identifiers."""
    forms = query_forms(q)
    hits = []
    for entry in index().values():
        best = None
        for normalized, shown, how in entry.texts:
            for form in forms:
                if normalized == form:
                    score = 300
                elif normalized.startswith(form) and len(form) >= 2:
                    score = 200
                elif form in normalized and len(form) >= 3:
                    score = 100
                else:
                    continue
                score += {"label": 20, "synonym": 15, "identifier": 15, "cross-reference": 10}.get(how, 0)
                score -= min(len(normalized) - len(form), 50) // 5  # tighter matches first
                if best is None or score > best.score:
                    best = Hit(entry, score, shown, how)
        if best is not None:
            hits.append(best)
    order = list(KINDS) + ["vocab"]
    hits.sort(key=lambda h: (-h.score, order.index(h.entry.kind), h.entry.label.casefold()))
    return hits[:limit]


def _wants_json() -> bool:
    fmt = request.args.get("format", "").strip().lower()
    if fmt:
        return fmt in ("json", "application/json")
    accept = request.accept_mimetypes
    return bool(accept) and accept.best_match(["text/html", "application/json"]) == "application/json"


def _type_labels(entry: Entry) -> list[str]:
    return sorted(t[len(str(EXO)):] for t in entry.types)


@blueprint.route("/search", methods=["GET"], endpoint="search")
def search_page() -> Response:
    q = request.args.get("q", "").strip()
    fmt = request.args.get("format", "").strip().lower()
    if fmt and fmt not in ("json", "application/json", "html", "text/html"):
        return text_error(400, f"unknown format {fmt!r} for search; use format=json or format=html")
    if len(q) > MAX_QUERY_CHARS:
        return text_error(400, f"the search text is longer than {MAX_QUERY_CHARS} characters")
    hits = search(q) if q and query_forms(q) else []
    if _wants_json():
        response = jsonify({
            "query": q,
            "results": [{"iri": h.entry.iri, "label": h.entry.label, "kind": h.entry.kind,
                         "types": _type_labels(h.entry), "matched": h.matched, "matchedAs": h.how,
                         "page": href(h.entry.iri)} for h in hits],
        })
    else:
        response = Response(render_template("search.html", q=q, hits=hits, kinds=KINDS, type_labels=_type_labels),
                            mimetype="text/html")
    response.vary.add("Accept")
    return response


# --- browse -----------------------------------------------------------------------------------------------

def browse_rows(kind: str) -> list[dict[str, str]]:
    """One row per entity of ``kind``: IRI, label, types, findings that mention it (directly or through
    one of their effects or axis steps)."""
    prefix = BASE + kind + "/"
    finding = BASE + "finding/"
    query = SPARQL_PREFIXES + f"""
SELECT ?s (SAMPLE(?l) AS ?label) (GROUP_CONCAT(DISTINCT ?tl; separator="; ") AS ?types) (COUNT(DISTINCT ?f) AS ?findings)
WHERE {{
  ?s rdfs:label ?l .
  FILTER(STRSTARTS(STR(?s), "{prefix}") && !CONTAINS(STRAFTER(STR(?s), "{prefix}"), "/"))
  OPTIONAL {{ ?s a ?t . FILTER(STRSTARTS(STR(?t), "{EXO}")) ?t rdfs:label ?tl }}
  OPTIONAL {{ ?x ?p ?s . FILTER(STRSTARTS(STR(?x), "{finding}") && ?x != ?s)
             BIND(REPLACE(STR(?x), "^({finding}[^/]+).*$", "$1") AS ?f) }}
}} GROUP BY ?s"""
    rows = [{"iri": str(r.s), "label": str(r.label), "types": str(r.types or ""),
             "findings": str(int(r.findings)) if r.findings is not None else "0"}
            for r in current_store().query(query)]
    rows.sort(key=lambda r: (r["label"].casefold(), r["iri"]))
    return rows


@blueprint.route("/browse", methods=["GET"])
def browse_index() -> Response:
    return Response(render_template("browse_index.html", kinds=KINDS), mimetype="text/html")


@blueprint.route("/browse/<name>", methods=["GET"])
def browse(name: str) -> Response:
    kind, _, ext = name.partition(".")
    fmt = (ext or request.args.get("format", "")).strip().lower()
    if not fmt:  # no extension, no parameter: the Accept header, HTML when anything goes
        accept = request.accept_mimetypes
        chosen = accept.best_match(["text/html", "text/csv", "text/tab-separated-values"]) if accept else None
        fmt = {"text/csv": "csv", "text/tab-separated-values": "tsv"}.get(chosen, "html")
    if kind not in KINDS:
        return text_error(404, f"no list called {kind!r}; lists: {', '.join(KINDS)}")
    if fmt not in ("html", "csv", "tsv"):
        return text_error(400, f"unknown format {fmt!r}; use html, csv or tsv")
    rows = browse_rows(kind)
    store = current_store()
    if fmt == "html":
        response = Response(render_template("browse.html", kind=kind, title=KINDS[kind], rows=rows),
                            mimetype="text/html")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["iri", "label", "types", "findings"],
                                delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v.replace("\t", " ").replace("\n", " ") if fmt == "tsv" else v for k, v in row.items()})
        response = Response(buffer.getvalue(), mimetype="text/csv" if fmt == "csv" else "text/tab-separated-values")
        response.headers["Content-Disposition"] = f'attachment; filename="exokg-{kind}.{fmt}"'
    response.set_etag(f"{store.version}-browse-{kind}-{fmt}")
    response.vary.add("Accept")
    return response.make_conditional(request)

