"""The Flask application factory: one Searcher per app, blueprints for the pages and the JSON API."""
from __future__ import annotations

import os
import threading
from datetime import date, datetime
from typing import Optional

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from search import Searcher, default_index_root

# Each setting once: name -> (default, help). Only create_app (and the CLI) read the environment.
SETTINGS = {
    "INDEX_ROOT": (None, "the index directory (default: $NEWSDEX_INDEX, else ./newsdex-index)"),
    "SITE_NAME": ("newsdex", "the name shown in the header and page titles"),
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        "the Content-Security-Policy header of every response"),
    "MORE_LIKE_THIS": (5, "how many similar articles the article page shows"),
    "MAX_EXPORTS": (2, "exports (/api/search.csv, .jsonl) streaming at once; more are answered 503"),
    "REFRESH_IN_BACKGROUND": (False, "open a new index version (after an add or a rebuild) in a thread of its own, "
                                     "answering from the previous one until it is ready (`newsdex serve` sets it)"),
    "PRELOAD_POSTINGS": (False, "map each served version's posting arrays in a thread of its own (at most a quarter "
                                "of the memory available), so that a word's first search faults no page in "
                                "(`newsdex serve` sets it)"),
}
MAX_URL_BYTES = 8 * 1024   # a longer address is refused (414) before any work: every link of a page repeats it
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",    # queries are in URLs: do not leak them to the outlets an article links to
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class JSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 (Flask's default writes HTTP dates); keep key order as the search layer built it."""

    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        return DefaultJSONProvider.default(o)


def create_app(config: Optional[dict] = None) -> Flask:
    """A newsdex site over the index at config["INDEX_ROOT"] (see SETTINGS for the other keys)."""
    app = Flask(__name__)
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    for name, (default, _help) in SETTINGS.items():
        app.config[name] = default
    app.config["INDEX_ROOT"] = default_index_root()   # $NEWSDEX_INDEX, else ./newsdex-index
    app.config.update(config or {})
    app.config["INDEX_ROOT"] = os.fspath(app.config["INDEX_ROOT"])
    app.extensions["newsdex"] = SearcherHolder(app.config["INDEX_ROOT"], app.config.get("SEARCHER"),
                                               bool(app.config.get("REFRESH_IN_BACKGROUND")),
                                               bool(app.config.get("PRELOAD_POSTINGS")))
    from web.export import ExportSlots
    app.extensions["newsdex_exports"] = ExportSlots(app.config["MAX_EXPORTS"])

    from web import api, errors, views
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    errors.register(app)
    views.register_template_helpers(app)

    @app.before_request
    def _bounded_url():
        """Refuse an over-long address before parsing it (the answer does not echo it)."""
        size = len(request.environ.get("PATH_INFO", "")) + len(request.query_string)   # WSGI: one char per byte
        if size > MAX_URL_BYTES:
            raise errors.AddressTooLong(f"The address is too long: {size:,} bytes (the limit is {MAX_URL_BYTES:,}). "
                                        f"Use fewer filters or a shorter query.")

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app


class SearcherHolder:
    """The app's one Searcher, opened on first use; if the index was missing, opening is retried on later requests
    (a `newsdex reindex` run while serving is then picked up without restart; the Searcher refreshes itself)."""

    def __init__(self, index_root: str, searcher: Optional[Searcher] = None, background: bool = False,
                 preload: bool = False):
        self.index_root = index_root
        self._searcher = searcher
        self._background = background
        self._preload = preload
        self._lock = threading.Lock()

    def get(self) -> Searcher:
        """The shared Searcher (raises the search layer's error when the index cannot be opened)."""
        searcher = self._searcher
        if searcher is None:
            with self._lock:
                if self._searcher is None:
                    self._searcher = Searcher(self.index_root, verify_in_background=True,
                                              refresh_in_background=self._background,
                                              preload_postings=self._preload)
                searcher = self._searcher
        return searcher

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None


def get_searcher() -> Searcher:
    """The current app's Searcher."""
    return current_app.extensions["newsdex"].get()
