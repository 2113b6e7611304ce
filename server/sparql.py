"""SPARQL 1.1 Protocol, query operation: GET and POST (urlencoded or application/sparql-query).

See https://www.w3.org/TR/sparql11-protocol/. Client mistakes are 4xx with a message; the dataset is
read-only.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from pyparsing import ParseException
from rdflib.plugins.sparql import prepareQuery

from exokg.server.sparql_results import GRAPH_FORMATS, SELECT_FORMATS, serialize_result
from exokg.server.store import current_store

blueprint = Blueprint("sparql", __name__)
SELECT_MEDIA = {f.media_type: f.name for f in SELECT_FORMATS}
FORMAT_ALIASES = {f.name: f.media_type for f in SELECT_FORMATS} | {
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}


def _error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _query_text() -> tuple[str | None, Response | None]:
    if request.method == "GET":
        queries = request.args.getlist("query")
    else:
        mimetype = request.mimetype
        if mimetype == "application/sparql-query":
            queries = [request.get_data(as_text=True)]
        elif mimetype == "application/x-www-form-urlencoded":
            queries = request.form.getlist("query")
        else:
            return None, _error(415, f"unsupported content type {mimetype or '(none)'}: use application/sparql-query or application/x-www-form-urlencoded")
    if len(queries) != 1:
        return None, _error(400, "give exactly one 'query' parameter" if queries else "missing 'query' parameter")
    return queries[0], None


def _negotiate(offered: list[str]) -> str | None:
    forced = request.args.get("format") or request.form.get("format")
    if forced:
        media = FORMAT_ALIASES.get(forced, forced)
        return media if media in offered else None
    if not request.accept_mimetypes:
        return offered[0]
    return request.accept_mimetypes.best_match(offered)


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    text, problem = _query_text()
    if problem:
        return problem
    try:
        prepareQuery(text)
    except ParseException as exc:
        return _error(400, f"malformed query: {exc.msg} at line {exc.lineno}, column {exc.column}")
    except Exception as exc:  # rdflib's algebra translation raises plain exceptions for bad queries
        return _error(400, f"malformed query: {exc}")
    result = current_store().query(text)
    if result.type in ("SELECT", "ASK"):
        offered = [f.media_type for f in SELECT_FORMATS]
        media = _negotiate(offered)
        if media is None:
            return _error(406, f"no acceptable result format; available: {', '.join(offered)}")
        return Response(serialize_result(result, SELECT_MEDIA[media]), mimetype=media)
    offered = list(GRAPH_FORMATS)
    media = _negotiate(offered)
    if media is None:
        return _error(406, f"no acceptable graph format; available: {', '.join(offered)}")
    return Response(result.graph.serialize(format=GRAPH_FORMATS[media], encoding="utf-8"), mimetype=media)
