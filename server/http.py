"""HTTP concerns shared by every route: plain-text errors, gzip, and structured access logs.

Each request is logged as one JSON object on the ``exokg.access`` logger: method, path, status,
bytes sent, total time, and for SPARQL requests the query's form, its time in the query process,
the rows of the answer and a short hash of its text (never the text itself, which may be large).
"""

from __future__ import annotations

import gzip
import json
import logging
import sys
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

access_log = logging.getLogger("exokg.access")
log = logging.getLogger("exokg.server")

GZIP_MIN_BYTES = 1024
COMPRESSIBLE = ("text/", "application/sparql-results", "application/ld+json", "application/rdf+xml",
                "application/n-triples", "application/n-quads", "application/trig", "application/json")


def text_error(status: int, message: str, headers: dict | None = None) -> Response:
    """Every error this server answers: plain text saying what went wrong and what to do."""
    response = Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    response = text_error(exc.code or 500, f"{exc.name}: {exc.description}")
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.path)
    return text_error(500, "internal server error: the endpoint failed to answer; this is a bug and it was logged")


def _gzip(response: Response) -> Response:
    if (response.status_code != 200 or response.direct_passthrough or "Content-Encoding" in response.headers
            or not response.mimetype.startswith(COMPRESSIBLE) or request.accept_encodings.quality("gzip") <= 0):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag:  # a different representation needs its own validator
        response.set_etag(etag + "-gzip", weak=weak)
    return response


def _start() -> None:
    g.exokg_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response = _gzip(response)
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "remote": request.remote_addr,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "bytes": response.calculate_content_length(),
        "ms": round((time.perf_counter() - g.get("exokg_started", time.perf_counter())) * 1000, 2),
        "agent": request.user_agent.string or None,
    }
    entry.update(g.get("exokg_log", {}))
    access_log.info(json.dumps(entry, ensure_ascii=False))
    return response


def init_app(app: Flask) -> None:
    if not access_log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.before_request(_start)
    app.after_request(_finish)
