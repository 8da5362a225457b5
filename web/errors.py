"""One error handler for the whole site: JSON under /api, an HTML page everywhere else.

Every error carries its HTTP status and a message a person understands (design: errors carry their status,
one handler renders them).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from search import IndexDamaged, IndexMissing, QueryError

log = logging.getLogger(__name__)

BUILD_HINT = ("Build one with `newsdex reindex PATH --index {root}` (PATH: a folder of article files), "
              "or try the bundled sample articles with `newsdex demo`.")


class WebError(Exception):
    """An error with an HTTP status, a message for people and an optional hint of the fix."""

    status = 500
    title = "Something went wrong"
    suggestions: list = []   # a 404's alternatives: dicts of label, count, url

    def __init__(self, message: str, hint: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if status is not None:
            self.status = status

    def to_json(self) -> dict:
        out = {"error": self.message, "status": self.status}
        if self.hint:
            out["hint"] = self.hint
        if self.suggestions:
            out["suggestions"] = list(self.suggestions)
        return out


class NotFound(WebError):
    status = 404
    title = "Not found"


class AddressTooLong(WebError):
    """A URL over the size limit (refused before it is parsed; the answer does not echo it)."""

    status = 414
    title = "Address too long"


class IndexUnavailable(WebError):
    """No index (or an empty one) under the configured root."""

    status = 503
    title = "No articles indexed yet"

    def __init__(self, root: str, empty: bool = False):
        message = (f"The index at {root} holds no articles yet." if empty
                   else f"There is no newsdex index at {root} yet.")
        super().__init__(message, BUILD_HINT.format(root=root))
        self.root = root
        self.empty = empty


class IndexBroken(WebError):
    """The index has a damaged file: the search layer's one line names it and says what to do."""

    status = 503
    title = "The index is damaged"


def wants_json() -> bool:
    """API requests get JSON errors; pages get HTML."""
    return request.path == "/api" or request.path.startswith("/api/")


def _as_web_error(exc: Exception) -> WebError:
    """Any exception as a WebError (unexpected ones are logged and answered as a 500 without details)."""
    if isinstance(exc, WebError):
        return exc
    if isinstance(exc, QueryError):
        err = WebError(exc.message, status=exc.status)
        err.title = "Not found" if exc.status == 404 else "That query could not be read"
        err.query_error = exc
        return err
    if isinstance(exc, IndexMissing):
        return IndexUnavailable(current_app.config["INDEX_ROOT"])
    if isinstance(exc, IndexDamaged):
        log.error("%s", exc)   # once per request: the operator sees it in the log too
        return IndexBroken(str(exc))
    if isinstance(exc, HTTPException):
        err = WebError(exc.description or exc.name, status=exc.code or 500)
        err.title = exc.name
        return err
    log.exception("unhandled error on %s", request.path)
    return WebError("The server hit an unexpected error; it has been logged.", status=500)


def handle(exc: Exception):
    """Render any error as JSON (API) or an HTML page, with its status."""
    err = _as_web_error(exc)
    if wants_json():
        body = err.to_json()
        query_error = getattr(err, "query_error", None)
        if query_error is not None:
            body = {**query_error.to_json(), "status": err.status}
        response = jsonify(body)
        response.status_code = err.status
    else:
        response = make_response(render_template("error.html", error=err), err.status)
    if err.status == 503:
        response.headers["Retry-After"] = "30"
    if err.status == 405 and isinstance(exc, HTTPException):
        for header, value in exc.get_headers():
            if header.lower() == "allow":
                response.headers["Allow"] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Route every exception through `handle`."""
    app.register_error_handler(Exception, handle)
