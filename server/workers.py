"""The app's query processes: one :class:`~exokg.server.executor.QueryPool` per server process.

Pools are made on first use in each process, never at import or in ``create_app``: under gunicorn
with ``preload_app`` the app is created in the master, and query processes forked there would be
shared by all workers. Each query process refuses network access (see :mod:`exokg.server.safety`),
caps its memory and never loads remote graphs.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading

import rdflib.plugins.sparql
from flask import current_app

from exokg.server.engine import answer_query
from exokg.server.executor import QueryPool, limit_memory
from exokg.server.safety import install_network_guard
from exokg.server.settings import Settings
from exokg.server.store import rdflib_internals

_lock = threading.Lock()


def _prepare_query_process(settings: Settings, store=None) -> None:
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False  # belt and braces: the engine never asks it to load
    # a remote backend's own endpoint is the one other place its query processes may connect to
    install_network_guard(tuple(settings.service_allowlist) + tuple(getattr(store, "endpoints", ())))
    if hasattr(store, "in_process"):
        store.in_process()  # its own read-only store handle, opened before the memory cap
    limit_memory(settings.query_memory_mb)


def current_pool() -> QueryPool:
    """This process's pool of query processes for the current app, made on first use."""
    app = current_app._get_current_object()
    pool = app.extensions.get("exokg.pool")
    if pool is not None and pool.owner == os.getpid():
        return pool
    with _lock:
        pool = app.extensions.get("exokg.pool")
        if pool is None or pool.owner != os.getpid():
            settings: Settings = app.config["EXOKG_SETTINGS"]
            store = app.extensions["exokg.store"]
            pool = QueryPool(
                settings.query_processes,
                work=functools.partial(answer_query, store, settings),
                setup=functools.partial(_prepare_query_process, settings, store),
                # forks wait for any RDFLib parse or update in progress (and for its warnings filters)
                fork_guard=rdflib_internals,
            )
            app.extensions["exokg.pool"] = pool
            atexit.register(pool.close)
    return pool


def close_pool(app) -> None:
    """Stop the query processes of ``app`` in this process (tests, shutdown)."""
    pool = app.extensions.pop("exokg.pool", None)
    if pool is not None and pool.owner == os.getpid():
        pool.close()
