"""The dataset's own description at /.well-known/void (https://www.w3.org/TR/void/#well-known).

The VoID file written by the build, in every RDF format of the negotiation table (Turtle as built).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from rdflib import Graph

from exokg.server import conneg
from exokg.server.http import text_error
from exokg.server.sparql_results import serialize_graph
from exokg.server.store import current_store

blueprint = Blueprint("dataset", __name__)


@blueprint.route("/.well-known/void", methods=["GET"])
def void() -> Response:
    store = current_store()
    try:
        fmt = conneg.negotiate(conneg.GRAPH, request.accept_mimetypes, request.args.getlist("format"))
    except conneg.UnknownFormat as exc:
        return text_error(400, str(exc))
    if fmt is None:
        offered = ", ".join(f.media_type for f in conneg.formats_for(conneg.GRAPH))
        return text_error(406, f"no acceptable format for the VoID description; offered: {offered}")
    if fmt.name == "turtle":
        body = store.void
    else:
        body = serialize_graph(Graph().parse(data=store.void, format="turtle"), fmt)
    response = Response(body, mimetype=fmt.media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    return response
