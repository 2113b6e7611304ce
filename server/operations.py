"""Routes for whoever runs the server: /health, for load balancers and monitoring.

200 while the dataset is loaded and the query processes are alive, 503 otherwise, with the facts as
JSON: dataset version, triples and storage (memory, disk or remote), query processes alive/busy/killed for overrunning their timeout.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from exokg.server.store import current_store
from exokg.server.workers import current_pool

blueprint = Blueprint("operations", __name__)


@blueprint.route("/health", methods=["GET"])
def health():
    store, pool = current_store(), current_pool()
    alive = pool.alive()
    body = {
        "status": "ok" if alive else "failing",
        "dataset": {"version": store.version, "triples": store.info.triples, "storage": store.storage},
        "query_processes": {"size": pool.size, "alive": alive, "busy": pool.busy, "killed": pool.killed,
                            "pids": pool.pids()},
    }
    response = jsonify(body)
    response.status_code = 200 if alive else 503
    response.headers["Cache-Control"] = "no-store"
    return response
