"""The Flask application factory: wiring only (settings, the store, HTTP hooks, blueprints).

Settings come from ``EXOKG_*`` environment variables, overridden by ``test_config`` (same keys), and
are validated here so a bad configuration stops the server at start-up (:mod:`exokg.server.settings`).
"""

from __future__ import annotations

from flask import Flask

from exokg.server.settings import Settings


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    settings = Settings.load(test_config)
    app.config.from_mapping(
        EXOKG_SETTINGS=settings,
        EXOKG_DATA=str(settings.data),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,  # larger bodies: 413
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
    )
    if test_config:
        app.config.from_mapping({k: v for k, v in test_config.items() if not k.startswith("EXOKG_")})

    from exokg.server import backend, dataset, http, operations, sparql, store

    backend.init_app(app)  # EXOKG_BACKEND: a remote SPARQL endpoint as the store (issue 7)
    store.init_app(app)  # fails fast on a missing or corrupt dataset
    http.init_app(app)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(dataset.blueprint)
    app.register_blueprint(operations.blueprint)
    from exokg.server import entity, pages, search  # linked-data pages for people (issue 6)

    app.register_blueprint(entity.blueprint)
    app.register_blueprint(search.blueprint)
    app.register_blueprint(pages.blueprint)
    from exokg.server import query_page  # the query page and the example queries (issue 6)

    app.register_blueprint(query_page.blueprint)
    from exokg.server import openapi, ratelimit

    ratelimit.init_app(app)  # off unless the operator sets EXOKG_RATE_LIMIT
    app.register_blueprint(openapi.blueprint)
    return app
