"""The endpoint's settings: one typed table read from ``EXOKG_*`` environment variables or a mapping.

Every setting is validated when the app is created, so a typo in an operator's configuration stops the
server at start-up with a message instead of surfacing as odd behaviour under load.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from exokg.config import DEFAULT_BUILD_DIR


# How a query without its own dataset reaches a backend (exokg.server.backend): with our graphs named as
# the default graph, or relying on the backend's default graph being their union (faster on Virtuoso).
BACKEND_DATASETS = ("explicit", "backend-default")


class SettingsError(ValueError):
    """An operator setting is missing, malformed or out of range."""


@dataclass(frozen=True)
class Settings:
    data: Path = DEFAULT_BUILD_DIR  # EXOKG_DATA: the build directory (exokg.trig, void.ttl)
    query_timeout: float = 10.0  # EXOKG_QUERY_TIMEOUT: seconds before a query's process is killed (503)
    max_rows: int = 100_000  # EXOKG_MAX_ROWS: solutions (or triples) one answer may hold
    max_response_bytes: int = 64 * 2**20  # EXOKG_MAX_RESPONSE_BYTES: size of one serialized answer
    max_request_bytes: int = 2**20  # EXOKG_MAX_REQUEST_BYTES: request body, and query string of a GET
    query_memory_mb: int = 1024  # EXOKG_QUERY_MEMORY_MB: address space a query process may add
    query_processes: int = 2  # EXOKG_QUERY_PROCESSES: query processes per server process
    fast_path_seconds: float = 1.0  # EXOKG_FAST_PATH_SECONDS: a query that took less runs in-thread when asked again (0: never)
    memory_triples: int = 2_000_000  # EXOKG_MEMORY_TRIPLES: serve a dataset up to this size from memory (0: from disk)
    service_allowlist: tuple[str, ...] = ()  # EXOKG_SERVICE_ALLOWLIST: endpoints SERVICE may call (space-separated)
    update_token: str | None = None  # EXOKG_UPDATE_TOKEN: enables SPARQL Update for this bearer token
    cors_origin: str = "*"  # EXOKG_CORS_ORIGIN: Access-Control-Allow-Origin of the query routes
    cache_bytes: int = 32 * 2**20  # EXOKG_CACHE_BYTES: /sparql answers cached per server process (0: none)
    public_base: str = ""  # EXOKG_PUBLIC_BASE: URL serving https://w3id.org/exokg/ (behind a proxy); "" = this server's root
    rate_limit: str | None = None  # EXOKG_RATE_LIMIT: per-client request limit, e.g. "60/minute" (off when unset)
    backend: str | None = None  # EXOKG_BACKEND: a SPARQL endpoint holding the data (exokg push) instead of the build
    backend_dataset: str = "explicit"  # EXOKG_BACKEND_DATASET: "explicit" (send our graphs) or "backend-default"
    yasgui_dir: Path | None = None  # EXOKG_YASGUI_DIR: the YASGUI build for /query; None: node_modules of the repository

    @classmethod
    def load(cls, overrides: dict | None = None, environ: dict | None = None) -> "Settings":
        """Settings from ``EXOKG_<NAME>`` variables, then ``overrides`` (keys ``EXOKG_<NAME>`` too)."""
        environ = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for f in fields(cls):
            key = f"EXOKG_{f.name.upper()}"
            if key in environ:
                raw[f.name] = environ[key]
            if overrides and key in overrides:
                raw[f.name] = overrides[key]
        return cls(**{name: _convert(name, value) for name, value in raw.items()}).validated()

    def validated(self) -> "Settings":
        problems = []
        if self.cache_bytes < 0:
            problems.append("EXOKG_CACHE_BYTES must be 0 (no cache) or more")
        if not 0 <= self.fast_path_seconds <= self.query_timeout:
            problems.append("EXOKG_FAST_PATH_SECONDS must be between 0 (off) and EXOKG_QUERY_TIMEOUT")
        if self.memory_triples < 0:
            problems.append("EXOKG_MEMORY_TRIPLES must be 0 (always from disk) or more")
        if self.query_timeout <= 0:
            problems.append("EXOKG_QUERY_TIMEOUT must be positive")
        for name in ("max_rows", "max_response_bytes", "max_request_bytes", "query_memory_mb", "query_processes"):
            if getattr(self, name) < 1:
                problems.append(f"EXOKG_{name.upper()} must be at least 1")
        for endpoint in self.service_allowlist:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"EXOKG_SERVICE_ALLOWLIST: {endpoint!r} is not an http(s) endpoint URL")
        if self.update_token is not None and len(self.update_token) < 16:
            problems.append("EXOKG_UPDATE_TOKEN must be at least 16 characters (it guards writes)")
        if self.backend is not None:
            if urlsplit(self.backend).scheme not in ("http", "https") or not urlsplit(self.backend).netloc:
                problems.append(f"EXOKG_BACKEND: {self.backend!r} is not an http(s) SPARQL endpoint URL")
            if self.update_token is not None:
                problems.append("EXOKG_UPDATE_TOKEN cannot be used with EXOKG_BACKEND: write to the backend store itself")
        if self.backend_dataset not in BACKEND_DATASETS:
            problems.append(f"EXOKG_BACKEND_DATASET: {self.backend_dataset!r} is not one of {', '.join(BACKEND_DATASETS)}")
        if self.rate_limit is not None:
            from limits import parse_many  # flask-limiter's own parser: what it accepts, we accept

            try:
                parse_many(self.rate_limit)
            except ValueError:
                problems.append(f"EXOKG_RATE_LIMIT: {self.rate_limit!r} is not a rate such as '60/minute' or '10 per second'")
        if self.public_base and (urlsplit(self.public_base).scheme not in ("http", "https")
                                 or not urlsplit(self.public_base).netloc or not self.public_base.endswith("/")):
            problems.append(f"EXOKG_PUBLIC_BASE: {self.public_base!r} is not an http(s) URL ending in '/'")
        if problems:
            raise SettingsError("; ".join(problems))
        return self

    @property
    def updates_enabled(self) -> bool:
        return self.update_token is not None


def _convert(name: str, value: object):
    target = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if name == "data":
            return Path(value)
        if name == "service_allowlist":
            return tuple(value.split()) if isinstance(value, str) else tuple(value)
        if name == "yasgui_dir":
            return Path(value) if value not in (None, "") else None
        if name == "backend":
            return str(value).strip() or None
        if name == "rate_limit":
            return str(value).strip() or None
        if name == "update_token":
            return str(value) if value not in (None, "") else None
        if target == "float":
            return float(value)
        if target == "int":
            return int(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"EXOKG_{name.upper()}: {value!r} is not a valid {target}") from exc
