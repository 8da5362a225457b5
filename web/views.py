"""The HTML pages: search, article, person and country pages, facet value search, Atom feeds, query help, about."""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.http import is_resource_modified

from search import (MAX_PLAIN_WORDS, MAX_QUERY_CHARS, QUERY_FIELDS, IndexDamaged, IndexMissing, QueryError,
                    SearchRequest, UnknownEntity, declared_facets, facet_named, person_key, shown)
from web import feeds
from web.app import get_searcher
from web.errors import IndexUnavailable, NotFound
from web.labels import country_name, date_source_text, human_date, language_name, parse_iso
from web.marking import marked_paragraphs
from web.state import SearchState
from web.storydiff import diff_words

log = logging.getLogger(__name__)
bp = Blueprint("views", __name__)

FACET_VISIBLE = 8            # buckets shown before "more"
MAX_ID_CHARS = 512
HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT = 280, 64
STORY_VERSIONS = 30          # other versions of a story listed on the article page
STORY_DIFFS = 8              # ... of which this many show their differences


# --- search ----------------------------------------------------------------------------------------------------------

@bp.get("/")
def search():
    """The search page: query, filters, results, facets, histogram; a malformed query is shown with status 400."""
    state = SearchState.from_args(request.args)
    searcher = get_searcher()
    overrides = {} if state.get("q").strip() or state.has("sort") else {"sort": "newest"}
    result, error, search_request = None, None, None
    try:
        search_request = SearchRequest.from_params(request.args, **overrides)
        search_request.validate()
        result = searcher.search(search_request)
    except QueryError as exc:
        error = exc
    except (IndexMissing, IndexDamaged):
        raise
    except Exception:
        if _article_count(searcher) == 0:   # an index with no articles may not be searchable at all
            raise IndexUnavailable(current_app.config["INDEX_ROOT"], empty=True) from None
        raise
    if result is not None and result.total == 0 and not state.get("q").strip() and not state.filtered:
        # an empty query without filters browses everything: nothing means the index holds no articles
        raise IndexUnavailable(current_app.config["INDEX_ROOT"], empty=True)
    context = dict(state=state, error=error, result=result, req=search_request, max_plain_words=MAX_PLAIN_WORDS,
                   sort=(search_request.sort if search_request else state.get("sort", "relevance")))
    if result is not None:
        context.update(_result_context(state, result))
    context["chips"] = _chips(state, result)
    return render_template("search.html", **context), (error.status if error else 200)


def _article_count(searcher) -> int:
    """Articles in the index, per the search layer's stats (-1 when it cannot tell)."""
    try:
        return searcher.stats()["articles"]
    except Exception:   # noqa: BLE001 - the count only decides which message to show
        log.exception("stats failed")
        return -1


def _result_context(state: SearchState, result) -> dict:
    """What the template needs beyond the result itself: facet links, histogram, pagination."""
    facets = []
    for facet in declared_facets():
        name, param = facet.name, facet.param
        entries = [dict(label=facet_label(name, b.value, b.label), value=b.value, count=b.count,
                        selected=b.selected or state.has(param, b.value),
                        url=state.toggled(param, b.value).url(), page=entity_url(name, b.value))
                   for b in result.facets.get(name) or ()]
        facets.append(dict(name=name, title=facet.label, param=param, entries=entries, findable=facet.findable,
                           failed=name in result.failed_facets,
                           visible=[e for i, e in enumerate(entries) if i < FACET_VISIBLE or e["selected"]],
                           more=[e for i, e in enumerate(entries) if i >= FACET_VISIBLE and not e["selected"]]))
    all_articles = result.request.all_articles
    stories = dict(
        all_articles=all_articles, count_stories=result.request.count_stories,
        toggle=(state.without("all_articles") if all_articles else state.replaced(all_articles="1")).url(),
        count_url=None if all_articles else state.replaced(
            count="articles" if result.request.count_stories else None).url())
    return dict(facets=facets, histogram=_histogram(state, result), pagination=_pagination(state, result),
                stories=stories, **_outlets(state))


def _outlets(state: SearchState) -> dict:
    """The same articles elsewhere: the Atom feed of the newest, the CSV and JSON Lines exports."""
    exported = state.without("page", "per_page", "count", "recency")
    return dict(feed_url=feed_url(state), csv_url=exported.url(url_for("api.export_csv")),
                jsonl_url=exported.url(url_for("api.export_jsonl")))


def feed_url(state: SearchState) -> str:
    """The Atom feed of a search (newest first: its sort and page do not matter)."""
    return state.without("page", "per_page", "sort", "count", "recency").url(url_for("views.feed"))


def entity_url(facet: str, value: str) -> str | None:
    """The page of a facet value, for a facet whose values have pages (its declaration's `page`): a person's (by
    display name or key), a country's (by code). `facet` is the facet's name or its page kind."""
    kind = next((f.page for f in declared_facets() if f.page and facet in (f.name, f.page)), "")
    if kind == "person":
        key = person_key(value)
        return url_for("views.person", key=key) if key else None
    if kind == "country":
        return url_for("views.country", code=value.strip().upper()) if value.strip() else None
    return None


def facet_label(facet: str, value: str, label: str = "") -> str:
    """What a facet value shows: the search layer's label, or a readable name for a bare code (its declaration's
    `show`)."""
    show = facet_named(facet).show
    if show == "language" and (not label or label == value):
        return language_name(value)
    if show == "country" and (not label or label.upper() == value.upper()):
        return country_name(value)
    return label or value


def _chips(state: SearchState, result, base: str = "/") -> list[dict]:
    """The active filters, each with the URL that removes it (a URL of the page at `base`)."""
    chips = []
    for facet in declared_facets():
        labels = {b.value: b.label for b in (result.facets.get(facet.name) or ())} if result is not None else {}
        for value in state.getlist(facet.param):
            label = facet_label(facet.name, value, labels.get(value, ""))
            chips.append(dict(kind=facet.singular, label=label, url=state.toggled(facet.param, value).url(base)))
    if state.has("from"):
        chips.append(dict(kind="From", label=state.get("from"), url=state.without("from").url(base)))
    if state.has("to"):
        chips.append(dict(kind="To", label=state.get("to"), url=state.without("to").url(base)))
    return chips


def _histogram(state: SearchState, result) -> dict | None:
    """Bars of the date facet as SVG geometry; each bar links to its period."""
    return _bars(state, result.facets.get("date") or (), result.date_interval,
                 "story" if result.request.count_stories else "article")


def _bars(state: SearchState, buckets, interval: str, unit: str, base: str = "/") -> dict | None:
    """Date buckets as SVG bars, each linking to the page at `base` narrowed to its period."""
    buckets = [b for b in buckets if b.date_from is not None]
    if not buckets:
        return None
    peak = max(b.count for b in buckets) or 1
    n = len(buckets)
    gap = 1 if n > 40 else 2
    width = (HISTOGRAM_WIDTH - gap * (n - 1)) / n
    bars = []
    for i, b in enumerate(buckets):
        height = 0 if not b.count else max(2.0, (HISTOGRAM_HEIGHT - 2) * b.count / peak)
        to = b.date_to or b.date_from
        bars.append(dict(x=round(i * (width + gap), 2), y=round(HISTOGRAM_HEIGHT - height, 2),
                         width=round(max(width, 0.5), 2), height=round(height, 2), count=b.count,
                         label=b.label, selected=b.selected,
                         url=state.replaced(from_=b.date_from.isoformat(), to=to.isoformat()).url(base)))
    return dict(bars=bars, width=HISTOGRAM_WIDTH, height=HISTOGRAM_HEIGHT, first=buckets[0].label,
                last=buckets[-1].label, interval=interval, unit=unit)


def _pagination(state: SearchState, result) -> dict | None:
    """Previous/next and a window of page numbers (None when everything fits on one page)."""
    pages, page = result.pages, result.page
    if pages == 0 or (pages == 1 and page == 1):
        return None
    numbers: list[int | None] = []
    for number in sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}):
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)   # an ellipsis
        numbers.append(number)
    return dict(page=page, pages=pages,
                prev=state.page(page - 1).url() if page > 1 else None,
                next=state.page(page + 1).url() if page < pages else None,
                links=[(n, state.page(n).url() if n else None) for n in numbers])


# --- article ---------------------------------------------------------------------------------------------------------

@bp.get("/article/<path:article_id>")
def article(article_id: str):
    """One article: metadata, the text with its people and country mentions marked, similar articles."""
    if len(article_id) > MAX_ID_CHARS:
        raise NotFound("No article has that id.")
    searcher = get_searcher()
    view = searcher.article(article_id)
    if view is None:
        raise NotFound(f"No article with the id {shown(article_id)} is in the index. It may have been deleted or "
                       f"re-indexed under a new id; try searching for it.")
    art = view.article
    people_param, countries_param = facet_named("people").param, facet_named("countries").param
    people = [dict(name=p.name, mentions=len(p.mentions), url=SearchState().toggled(people_param, p.name).url(),
                   page=entity_url("people", p.key or p.name))
              for p in art.people]
    countries = [dict(name=c.name or country_name(c.code), code=c.code, about=c.about, mentions=len(c.mentions),
                      url=SearchState().toggled(countries_param, c.code).url(),
                      page=entity_url("countries", c.code) if c.about else None)
                 for c in art.countries]
    countries.sort(key=lambda c: (not c["about"], -c["mentions"], c["name"]))
    return render_template("article.html", article=art, paragraphs=marked_paragraphs(art), people=people,
                           countries=countries, similar=_similar(searcher, art.id),
                           same_story=_same_story(searcher, view, art), story_size=view.story_size,
                           date_source=date_source_text(art.date_source))


def _similar(searcher, article_id: str) -> list:
    """More like this; a failure here degrades to nothing rather than failing the page."""
    try:
        return list(searcher.more_like_this(article_id, current_app.config["MORE_LIKE_THIS"]))
    except IndexDamaged:   # not a part of the page to do without: the whole index is in doubt
        raise
    except Exception:   # noqa: BLE001
        log.exception("more_like_this failed for %r", article_id)
        return []


def _same_story(searcher, view, art) -> list:
    """The other versions of the article's story (near-duplicates, syndicated copies), earliest first, each with
    what it added or cut against this article (for the first STORY_DIFFS)."""
    out = []
    for i, v in enumerate(view.versions[:STORY_VERSIONS]):
        entry = dict(v, published=parse_iso(v["published"]), diff=None, title_differs=v["title"] != art.title)
        if i < STORY_DIFFS:
            try:
                other = searcher.article(v["id"], with_story=False)
            except IndexDamaged:
                raise
            except Exception:   # noqa: BLE001 - one version failing does not fail the page
                log.exception("article %r failed", v["id"])
                other = None
            if other is not None:
                entry["diff"] = diff_words(art.body, other.article.body)
        out.append(entry)
    return out


# --- person and country pages -----------------------------------------------------------------------------------------

ENTITY_FACET = {"person": "people", "country": "countries"}   # a page's kind -> the facet its values are in


@bp.get("/person/<path:key>")
def person(key: str):
    """A person: counts, first and last seen, timeline, who and which countries appear with them, latest articles;
    the search parameters narrow it (a display name redirects to the person's key)."""
    return _entity_page("person", key)


@bp.get("/country/<code>")
def country(code: str):
    """A country's page, as a person's (a name or a lower-case code redirects to the ISO code)."""
    return _entity_page("country", code)


def entity_rank() -> str:
    """The co-mention order asked for: score (significance, the default) or count."""
    return (request.args.get("rank") or "score").strip().lower()


def _entity_page(kind: str, key: str):
    if len(key) > MAX_ID_CHARS:
        raise NotFound(f"No {kind} has that key.")
    state = SearchState.from_args(request.args)
    rank = entity_rank()
    try:
        page = get_searcher().entity(kind, key, SearchRequest.from_params(request.args), rank)
    except UnknownEntity as exc:
        raise _not_found(kind, exc) from None
    base = entity_url(kind, page.key)
    if page.key != key:
        qs = request.query_string.decode("latin-1")
        return redirect(f"{base}?{qs}" if qs else base)
    param = facet_named(ENTITY_FACET[kind]).param
    value = page.name if kind == "person" else page.key
    searched = state if state.has(param, value) else state.toggled(param, value)
    ranked = {r: state.url(base) + ("&" if state.items() else "?") + f"rank={r}" for r in ("score", "count")}
    return render_template(
        "entity.html", page=page, kind=kind, state=state, searched=searched, base=base, rank=rank, ranked=ranked,
        chips=_chips(state, None, base), histogram=_bars(state, page.timeline, page.interval, "article", base),
        with_people=_co_links(searched, page.with_people, "people"),
        with_countries=_co_links(searched, page.with_countries, "countries"),
        api_url=state.url(url_for(f"api.{kind}", **{"key" if kind == "person" else "code": page.key})),
        **_outlets(searched))


def _co_links(searched: SearchState, mentions, facet: str) -> list[dict]:
    """Co-mentioned entities, each linking to the search for articles about both, and to its own page."""
    param = facet_named(facet).param
    return [dict(label=facet_label(facet, m.value, m.label), count=m.count, score=round(m.score, 1) + 0.0,
                 url=(searched if searched.has(param, m.value) else searched.toggled(param, m.value)).url(),
                 page=entity_url(facet, m.key))
            for m in mentions]


def _not_found(kind: str, exc: UnknownEntity) -> NotFound:
    """A 404 page offering the closest names, each linking to its page."""
    err = NotFound(exc.message[:1].upper() + exc.message[1:] + ".",
                   hint="Perhaps one of these:" if exc.suggestions else "")
    err.suggestions = [dict(label=facet_label(ENTITY_FACET[kind], s.value, s.label), count=s.count,
                            url=entity_url(kind, s.key)) for s in exc.suggestions]
    return err


# --- Atom feeds ------------------------------------------------------------------------------------------------------

@bp.get("/feed.atom")
def feed():
    """The newest articles of a search as an Atom feed; 304 when the reader's copy is current."""
    state = SearchState.from_args(request.args)
    searcher = get_searcher()
    version = searcher.version()   # read before searching: the validators never claim a newer index than shown
    tag = feeds.etag(version, state.query_string(), request.host_url)
    modified = version.modified.replace(microsecond=0) if version.modified else None
    if not is_resource_modified(request.environ, etag=tag, last_modified=modified):
        return _feed_response(Response(status=304), tag, modified)
    search_request = SearchRequest.from_params(request.args, sort="newest", page=1, per_page=feeds.FEED_ENTRIES,
                                               facets=False, snippets=False)
    result = searcher.search(search_request)
    entries = [dict(id_url=url_for("views.article", article_id=h.id, _external=True), title=h.title,
                    published=parse_iso(h.published), source=h.source, summary=feeds.summary_text(h.snippet),
                    original=safe_link(h.url))
               for h in result.hits]
    body = feeds.atom(title=_feed_title(state), feed_url=request.url,
                      page_url=state.url(url_for("views.search", _external=True)), updated=modified,
                      entries=entries, generator=current_app.config["SITE_NAME"])
    return _feed_response(Response(body, content_type=feeds.CONTENT_TYPE), tag, modified)


def _feed_response(response: Response, tag: str, modified) -> Response:
    response.set_etag(tag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "no-cache"   # keep it, but ask again each time (304 when unchanged)
    return response


def _feed_title(state: SearchState) -> str:
    """The site's name and what the feed follows: the query, then each filter."""
    parts = [f"“{state.get('q')}”"] if state.get("q").strip() else []
    parts += [f"{chip['kind']} {chip['label']}" for chip in _chips(state, None)]
    return f"{current_app.config['SITE_NAME']}: " + (" · ".join(parts) if parts else "newest articles")


# --- facet value search (the no-JavaScript path of the type-ahead) ---------------------------------------------------

@bp.get("/facets/<facet>")
def facet_values(facet: str):
    """Values of one facet matching a prefix, each a link that adds it to the current search."""
    names = [f.name for f in declared_facets()]
    if facet not in names:
        raise NotFound(f"There is no facet {shown(facet)}; the facets are {', '.join(names)}.")
    prefix = request.args.get("prefix", "")[:200]
    state = SearchState.from_args(request.args)
    param = facet_named(facet).param
    buckets = get_searcher().facet_values(facet, prefix, 50)
    entries = [dict(label=facet_label(facet, b.value, b.label), count=b.count,
                    selected=state.has(param, b.value),
                    url=(state if state.has(param, b.value) else state.toggled(param, b.value)).url())
               for b in buckets]
    title = facet_named(facet).label
    return render_template("facet_values.html", facet=facet, title=title, prefix=prefix, entries=entries,
                           state=state)


# --- help and about --------------------------------------------------------------------------------------------------

@bp.get("/help")
def help_page():
    """The query language, with examples that are links."""
    return render_template("help.html", fields=QUERY_FIELDS)


@bp.get("/about")
def about():
    """What is in the archive: counts per language and source, date range."""
    stats = get_searcher().stats()
    return render_template("about.html", stats=stats)


# --- template helpers ------------------------------------------------------------------------------------------------

_MARK_ONLY = re.compile(r"<(?!/?mark>)")


def safe_highlight(html: str) -> Markup:
    """The search layer's snippet/title HTML, trusted only for <mark>: any other `<` is escaped (defence in depth)."""
    return Markup(_MARK_ONLY.sub("&lt;", html or ""))


def safe_link(url: str) -> str:
    """The URL when it is an absolute http(s) link, else "" (javascript:, data: and the like are never rendered)."""
    url = (url or "").strip()
    if not url or any(ord(c) < 33 for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def host_of(url: str) -> str:
    """www.example.com -> example.com (for a link's label)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters.update(
        language_name=language_name, country_name=country_name, human_date=human_date,
        highlight=safe_highlight, safe_link=safe_link, host_of=host_of,
        article_url=lambda article_id: url_for("views.article", article_id=article_id),
        person_url=lambda name: entity_url("people", name), country_url=lambda code: entity_url("countries", code),
        thousands=lambda n: f"{n:,}" if isinstance(n, int) else n)
    app.jinja_env.globals.update(max_query_chars=MAX_QUERY_CHARS, facet_param=lambda name: facet_named(name).param)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site():
        return {"site_name": current_app.config["SITE_NAME"]}
