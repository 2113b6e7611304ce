"""The Flask application factory: wiring only (configuration, the store, blueprints)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from exokg.config import DEFAULT_BUILD_DIR


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(EXOKG_DATA=os.environ.get("EXOKG_DATA", str(DEFAULT_BUILD_DIR)))
    if test_config:
        app.config.from_mapping(test_config)

    from exokg.server import sparql, store

    store.init_app(app)  # fails fast on a missing or corrupt dataset
    app.register_blueprint(sparql.blueprint)
    return app
