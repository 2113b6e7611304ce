"""A per-client request limit an operator can switch on (EXOKG_RATE_LIMIT, e.g. "60/minute"; off by default).

Built on flask-limiter (https://flask-limiter.readthedocs.io/): one budget per client address covering
every route except /health (load balancers poll it). A client over its budget gets 429 with a
plain-text message and Retry-After. Counts are kept in each server process's memory, so under
gunicorn a client may get up to ``workers`` times the budget (a shared count would need flask-limiter's
Redis storage, RATELIMIT_STORAGE_URI in the app's config).
"""

from __future__ import annotations

import time

from flask import Flask, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from exokg.server.http import text_error

EXEMPT_PATHS = ("/health",)


def init_app(app: Flask) -> Limiter | None:
    """Attach the limiter when the operator set a rate; returns it (None when rate limiting is off)."""
    rate = app.config["EXOKG_SETTINGS"].rate_limit
    if rate is None:
        return None
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter = Limiter(get_remote_address, app=app, application_limits=[rate], headers_enabled=True,
                      strategy="fixed-window")

    @limiter.request_filter
    def _exempt() -> bool:
        return request.path in EXEMPT_PATHS

    def _too_many(exc: RateLimitExceeded):
        current = limiter.current_limit
        retry = max(1, int(current.reset_at - time.time())) if current else 1  # as flask-limiter rounds it
        return text_error(429, f"too many requests: this endpoint allows {exc.description} per client; "
                               f"retry after {retry} s", {"Retry-After": str(retry)})

    app.register_error_handler(RateLimitExceeded, _too_many)
    return limiter
