"""An OpenAPI 3.0 description of the endpoint's HTTP routes, served at /openapi.json.

The description is built per request from the app's own URL map: each route this module knows gets
its documented parameters and answers, and any other route a blueprint registered (pages, entity
IRIs, downloads...) still appears with its path parameters, so the description never claims a route
the server lacks nor hides one it has. Clients, and the schemathesis fuzzing in
tests/test_fuzz_http.py, read it. Spec: https://spec.openapis.org/oas/v3.0.3.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, has_request_context, jsonify, request

from exokg import __version__
from exokg.server import conneg

blueprint = Blueprint("openapi", __name__)

_TEXT_ERROR = {"description": "the request cannot be answered as asked; the body says why",
               "content": {"text/plain": {"schema": {"type": "string"}}}}
_ERRORS = {str(code): _TEXT_ERROR for code in (400, 403, 404, 406, 413, 414, 415, 429, 503)}


def _media(*kinds: str) -> dict:
    return {f.media_type: {"schema": {"type": "string"}} for f in conneg.formats_for(*kinds)}


def _query_param(name: str, description: str, required: bool = False, array: bool = False) -> dict:
    schema = {"type": "array", "items": {"type": "string"}} if array else {"type": "string"}
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if array else {})}


_DATASET_PARAMS = [
    _query_param("default-graph-uri", "a named graph of this dataset to use as the default graph", array=True),
    _query_param("named-graph-uri", "a named graph of this dataset to make available to GRAPH", array=True),
    _query_param("format", "the answer's format by name or media type (overrides Accept)"),
]
_QUERY_ANSWERS = {
    "200": {"description": "the query's answer in the negotiated format",
            "content": {**_media(conneg.SOLUTIONS, conneg.BOOLEAN, conneg.GRAPH)}},
    **_ERRORS,
}

# Operations of the routes documented here, by Flask rule (or endpoint name); see each blueprint for the behaviour.
KNOWN: dict[str, dict] = {
    "/sparql": {
        "get": {
            "summary": "SPARQL 1.1 query (https://www.w3.org/TR/sparql11-protocol/#query-via-get); "
                       "without a query: the service description (RDF), or the query editor for a browser (HTML)",
            "parameters": [_query_param("query", "a SPARQL 1.1 query"), *_DATASET_PARAMS],
            "responses": {**_QUERY_ANSWERS,
                          "200": {"description": "the query's answer, the service description, or the query editor",
                                  "content": {**_media(conneg.SOLUTIONS, conneg.BOOLEAN, conneg.GRAPH, conneg.PAGE)}}},
        },
        "post": {
            "summary": "SPARQL 1.1 query or update, by form or by body "
                       "(https://www.w3.org/TR/sparql11-protocol/#query-operation)",
            "parameters": _DATASET_PARAMS,
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                    "query": {"type": "string"}, "update": {"type": "string"},
                    "using-graph-uri": {"type": "string"}, "using-named-graph-uri": {"type": "string"}}}},
                "application/sparql-query": {"schema": {"type": "string"}},
                "application/sparql-update": {"schema": {"type": "string"}},
            }},
            "responses": {**_QUERY_ANSWERS, "401": _TEXT_ERROR},
        },
    },
    "/health": {"get": {"summary": "liveness: dataset loaded and query processes alive",
                        "responses": {"200": {"description": "healthy", "content": {"application/json": {"schema": {"type": "object"}}}},
                                      "503": {"description": "failing", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/.well-known/void": {"get": {"summary": "the dataset's VoID description (https://www.w3.org/TR/void/#well-known)",
                                  "parameters": [_query_param("format", "an RDF format by name or media type")],
                                  "responses": {"200": {"description": "VoID", "content": _media(conneg.GRAPH)}, **_ERRORS}}},
    "/openapi.json": {"get": {"summary": "this description",
                              "responses": {"200": {"description": "OpenAPI 3.0",
                                                    "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/sparql/description": {"get": {"summary": "the service description: a page, or RDF by Accept or format",
                                    "parameters": [_query_param("format", "an RDF format by name or media type, or html")]}},
    "/context.jsonld": {"get": {"summary": "the JSON-LD context of the entity documents and the dump"}},
    "/query/terms.json": {"get": {"summary": "the prefixes, classes and properties the query editor completes"}},
    "/query": {"get": {"summary": "the query editor (YASGUI) with the example queries, as at /sparql for browsers",
                       "parameters": [_query_param("query", "a query to open in the editor")]}},
    "/examples": {"get": {"summary": "the example queries"}},
    "/search": {"get": {"summary": "search the entities by label",
                        "parameters": [_query_param("q", "words to look for")]}},
    "/browse/<name>": {"get": {"summary": "every entity of one kind (also as .csv / .tsv)"}},
    "/downloads": {"get": {"summary": "the dataset's dumps and their descriptions"}},
    "/dumps/<name>": {"get": {"summary": "one dump file of the build"}},
    "/": {"get": {"summary": "the home page"}},
    "/overview": {"get": {"summary": "the graph in figures"}},
    "/cite": {"get": {"summary": "how to cite the dataset"}},
    # routes known by their endpoint name (their rules are long or may change)
    "entity.minted": {"get": {"summary": "an entity IRI under https://w3id.org/exokg/: its page, or RDF by Accept or extension"}},
    "entity.vocab": {"get": {"summary": "the ontology (https://w3id.org/exokg/vocab)"}},
    "entity.vocab_term": {"get": {"summary": "an ontology term's page, or RDF by Accept"}},
    "entity.dataset": {"get": {"summary": "the dataset's description"}},
}

_CONVERTER = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\((?P<arguments>[^)]*)\))?:)?(?P<name>\w+)>")


def openapi_path(rule: str) -> str:
    """A Flask rule in OpenAPI's template syntax: ``/browse/<kind>`` → ``/browse/{kind}``."""
    return _CONVERTER.sub(lambda m: "{" + m["name"] + "}", rule)


def _path_params(rule: str) -> list[dict]:
    params = []
    for match in _CONVERTER.finditer(rule):
        schema = {"type": "integer"} if match["converter"] == "int" else {"type": "string"}
        if match["converter"] == "any":  # werkzeug's any("a", "b"): one of these values
            schema["enum"] = [a.strip().strip("'\"") for a in match["arguments"].split(",")]
        params.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return params


def describe(app) -> dict:
    """The OpenAPI document for ``app``'s routes (the static files route excepted)."""
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            known = (KNOWN.get(rule.rule) or KNOWN.get(rule.endpoint) or {}).get(method.lower())
            operation = dict(known) if known else {"summary": rule.endpoint}
            operation.setdefault("responses", {"200": {"description": "the resource"}, **_ERRORS})
            operation["operationId"] = f"{rule.endpoint}.{method.lower()}"
            path_params = _path_params(rule.rule)
            if path_params:
                operation["parameters"] = path_params + list(operation.get("parameters", []))
            item[method.lower()] = operation
        if not item:
            del paths[openapi_path(rule.rule)]
    return {
        "openapi": "3.0.3",
        "info": {"title": "exokg SPARQL endpoint", "version": __version__,
                 "description": "Tumor-derived small extracellular vesicles in glioma, as linked data over SPARQL 1.1."},
        "servers": [{"url": request.host_url.rstrip("/")}] if has_request_context() else [],
        "paths": paths,
    }


@blueprint.route("/openapi.json", methods=["GET"])
def openapi():
    response = jsonify(describe(current_app))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
