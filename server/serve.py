"""``exokg serve``: the endpoint under gunicorn, configured like ``make run`` (see gunicorn_conf)."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import BaseApplication

from exokg.server import gunicorn_conf
from exokg.server.app import create_app

SETTINGS = ("bind", "workers", "worker_class", "threads", "preload_app", "timeout", "graceful_timeout",
            "keepalive", "limit_request_line", "accesslog", "errorlog", "control_socket_disable",
            "post_fork", "child_exit")


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self):
        return self._app


def serve(host: str, port: int, data: str | Path, workers: int = 2, threads: int = 4,
          query_timeout: float | None = None, backend: str | None = None, backend_dataset: str | None = None) -> int:
    """Serve the build in ``data`` on host:port until interrupted; invalid settings raise at once.

    ``backend``: a SPARQL endpoint holding the data instead of ``data`` (:mod:`exokg.server.backend`);
    ``backend_dataset``: how queries naming no dataset are sent to it (EXOKG_BACKEND_DATASET).
    """
    overrides = {"EXOKG_DATA": str(data)}
    if backend is not None:
        overrides["EXOKG_BACKEND"] = backend
    if backend_dataset is not None:
        overrides["EXOKG_BACKEND_DATASET"] = backend_dataset
    if query_timeout is not None:
        overrides["EXOKG_QUERY_TIMEOUT"] = query_timeout
    app = create_app(overrides)  # loaded here, before forking: a missing dataset stops us now
    options = {key: getattr(gunicorn_conf, key) for key in SETTINGS}
    timeout = app.config["EXOKG_SETTINGS"].query_timeout
    options.update(bind=f"{host}:{port}", workers=workers, threads=threads, timeout=int(timeout) + 30)
    _Server(app, options).run()
    return 0
