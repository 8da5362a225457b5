"""The JSON API under /api: the same searches as the pages, as the search layer's own JSON (see web/openapi.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for

from search import MAX_EXPORT_ROWS, MAX_PER_PAGE, SearchRequest, declared_facets, facet_named, shown
from web.app import get_searcher
from web.errors import NotFound, WebError
from web.export import FORMATS, Body
from web.state import filter_params
from web.views import MAX_ID_CHARS, entity_rank

bp = Blueprint("api", __name__)

MAX_FACET_VALUES = 100
MAX_SIMILAR = 50
MAX_PREFIX_CHARS = 200


def _int_param(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise WebError(f"{name} must be a whole number, not {shown(value)}", status=400) from None
    if not low <= number <= high:
        raise WebError(f"{name} must be between {low} and {high}, not {shown(number)}", status=400)
    return number


@bp.after_request
def _no_cache(response):
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@bp.get("/")
def index():
    """What the API offers."""
    names = ", ".join(f.name for f in declared_facets())
    return jsonify({
        "endpoints": {
            "/api/search": f"search (q, {', '.join(filter_params())}, from, to, sort, recency, all_articles, count, "
                           f"page, per_page)",
            "/api/search.csv": "every matching article as CSV (the search parameters; limit): one row per article",
            "/api/search.jsonl": "the same as JSON Lines",
            "/api/person/{key}": "a person: articles, stories, first and last seen, timeline, people and countries "
                                 "mentioned with them, latest articles (the search parameters narrow it; rank)",
            "/api/country/{code}": "the same for a country (ISO 3166 alpha-2 code)",
            "/api/article/{id}": "one article with its people, countries and their mention spans",
            "/api/similar/{id}": "articles like one article (n)",
            "/api/facets/{facet}": f"values of a facet ({names}) by prefix (prefix, limit)",
            "/api/explain": "the parsed form of a query (q)",
            "/api/stats": "what the index holds",
        },
        "openapi": "/api/openapi.json",
    })


@bp.get("/search")
def search():
    """The same parameters as the search page; the same JSON as `newsdex search --json`."""
    search_request = SearchRequest.from_params(request.args)
    search_request.validate()
    return jsonify(get_searcher().search(search_request).to_json())


def _checked_id(article_id: str) -> str:
    if len(article_id) > MAX_ID_CHARS:
        raise NotFound("no article has that id")
    return article_id


@bp.get("/article/<path:article_id>")
def article(article_id: str):
    """One article as stored (the shape of `newsdex inspect --json`)."""
    view = get_searcher().article(_checked_id(article_id))
    if view is None:
        raise NotFound(f"no article with id {shown(article_id)}")
    return jsonify(view.to_json())


@bp.get("/similar/<path:article_id>")
def similar(article_id: str):
    """More like this: articles similar to one article."""
    n = _int_param("n", 10, 1, MAX_SIMILAR)
    searcher = get_searcher()
    if searcher.article(_checked_id(article_id)) is None:
        raise NotFound(f"no article with id {shown(article_id)}")
    return jsonify({"id": article_id, "hits": [h.to_json() for h in searcher.more_like_this(article_id, n)]})


@bp.get("/facets/<facet>")
def facet_values(facet: str):
    """Facet value search over the whole index (for type-ahead)."""
    names = [f.name for f in declared_facets()]
    if facet not in names:
        raise WebError(f"unknown facet {shown(facet)}: use one of {', '.join(names)}", status=404)
    prefix = request.args.get("prefix", "")
    if len(prefix) > MAX_PREFIX_CHARS:
        raise WebError(f"prefix is longer than {MAX_PREFIX_CHARS} characters", status=400)
    limit = _int_param("limit", 20, 1, MAX_FACET_VALUES)
    buckets = get_searcher().facet_values(facet, prefix, limit)
    return jsonify({"facet": facet, "param": facet_named(facet).param, "prefix": prefix,
                    "values": [b.to_json() for b in buckets]})


@bp.get("/explain")
def explain():
    """How a query is understood and, for the page of hits (or the articles named by `id`), what each query word
    contributed to their scores. Takes the search parameters."""
    q = request.args.get("q", "")
    searcher = get_searcher()
    out = {"query": q, "explain": searcher.explain(q)}
    if q.strip():
        search_request = SearchRequest.from_params(request.args, facets=False, snippets=False)
        out.update(searcher.explain_hits(search_request, tuple(request.args.getlist("id"))[:MAX_PER_PAGE]))
    return jsonify(out)


@bp.get("/person/<path:key>")
def person(key: str):
    """A person's page as JSON (a display name redirects to the person's key)."""
    return _entity("person", key)


@bp.get("/country/<code>")
def country(code: str):
    """A country's page as JSON (a name or a lower-case code redirects to the ISO code)."""
    return _entity("country", code)


def _entity(kind: str, key: str):
    if len(key) > MAX_ID_CHARS:
        raise NotFound(f"no {kind} has that key")
    page = get_searcher().entity(kind, key, SearchRequest.from_params(request.args), entity_rank())
    if page.key != key:
        return redirect(_same_query(url_for(f"api.{kind}", **{"key" if kind == "person" else "code": page.key})))
    return jsonify(page.to_json())


def _same_query(path: str) -> str:
    qs = request.query_string.decode("latin-1")
    return f"{path}?{qs}" if qs else path


@bp.get("/search.csv")
def export_csv():
    """Every matching article as CSV (RFC 4180, UTF-8 with a BOM), streamed."""
    return _export("csv")


@bp.get("/search.jsonl")
def export_jsonl():
    """Every matching article as JSON Lines, streamed."""
    return _export("jsonl")


def _export(fmt: str):
    """Stream an export; the headers say how many rows and whether the limit cut it (the body holds only rows)."""
    limit = _int_param("limit", MAX_EXPORT_ROWS, 1, MAX_EXPORT_ROWS)
    search_request = SearchRequest.from_params(request.args, facets=False, snippets=False)
    slots = current_app.extensions["newsdex_exports"]
    if not slots.take():
        raise WebError(f"{slots.n} exports are already running; try again when one has finished", status=503)
    try:
        export = get_searcher().export(search_request, limit)
    except BaseException:
        slots.give_back()
        raise
    response = Response(Body(export, fmt, slots), content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="newsdex-export.{fmt}"'
    response.headers["X-Export-Rows"] = str(export.rows)
    response.headers["X-Export-Total"] = str(export.total)
    response.headers["X-Export-Truncated"] = "true" if export.cut else "false"
    response.headers["X-Export-Order"] = export.sort
    return response


@bp.get("/stats")
def stats():
    """Counts: articles, per language and source, date range, people, countries, index version."""
    return jsonify(get_searcher().stats())


OPENAPI_FILE = Path(__file__).parent / "openapi.json"


@lru_cache(maxsize=1)
def _openapi_file() -> str:
    return OPENAPI_FILE.read_text(encoding="utf-8")


def openapi_spec() -> dict:
    """The API's OpenAPI description: web/openapi.json with its facet parts made from the facet table
    (index/facets.py): each facet's filter parameter right after `q` wherever `q` is taken, and the facets
    `/api/facets/{facet}` knows. `write_openapi()` writes it back (a test checks the file matches)."""
    spec = json.loads(_openapi_file())
    params = set(filter_params())
    for path in spec["paths"].values():
        for operation in path.values():
            listed = operation.get("parameters", [])
            if not any(p["name"] == "q" for p in listed):
                continue
            kept = [p for p in listed if p["name"] not in params or p["in"] != "query"]
            at = next(i for i, p in enumerate(kept) if p["name"] == "q") + 1
            operation["parameters"] = kept[:at] + [_filter_parameter(f) for f in declared_facets()] + kept[at:]
    names = [f.name for f in declared_facets()]
    for p in spec["paths"]["/api/facets/{facet}"]["get"]["parameters"]:
        if p["name"] == "facet":
            p["schema"]["enum"] = names
    spec["components"]["schemas"]["SearchResult"]["properties"]["facets"]["description"] = (
        f"counts over the whole result set: {', '.join(names)}, date (histogram)")
    return spec


def _filter_parameter(facet) -> dict:
    return {"name": facet.param, "in": "query", "description": facet.help,
            "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True}


def write_openapi() -> None:
    """Write openapi_spec() to web/openapi.json (after changing a facet: `python -c 'import web.api as a;
    a.write_openapi()'`)."""
    OPENAPI_FILE.write_text(json.dumps(openapi_spec(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _openapi_file.cache_clear()


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3.1 description."""
    return jsonify(openapi_spec())
