"""The web layer's pure parts: URL state, mention marking, labels, link and snippet sanitising."""
from datetime import datetime, timezone

from index.model import Article, Country, Person
from web.labels import country_name, date_source_text, human_date, language_name
from web.marking import Segment, marked_paragraphs, mention_spans
from web.state import SearchState
from web.views import safe_highlight, safe_link


def state(**values):
    return SearchState({k.rstrip("_"): v if isinstance(v, list) else [v] for k, v in values.items()})


# --- URL state -------------------------------------------------------------------------------------------------------

def test_state_orders_params_drops_empty_and_defaults():
    s = state(page="3", sort="relevance", q="coral reef", lang=["fr", "en"], from_="", person="Yuki Harada")
    assert s.items() == [("q", "coral reef"), ("person", "Yuki Harada"), ("lang", "fr"), ("lang", "en"),
                         ("page", "3")]
    assert s.url() == "/?q=coral+reef&person=Yuki+Harada&lang=fr&lang=en&page=3"


def test_toggle_adds_then_removes_and_goes_back_to_page_one():
    s = state(q="strike", page="4")
    on = s.toggled("lang", "fr")
    assert on.url() == "/?q=strike&lang=fr"
    assert on.toggled("lang", "fr").url() == "/?q=strike"
    assert on.toggled("lang", "de").url() == "/?q=strike&lang=fr&lang=de"


def test_single_valued_params_keep_the_last_and_repeats_collapse():
    s = SearchState({"q": ["a", "b"], "person": ["X", "X", "Y"], "sort": ["oldest", "newest"]})
    assert s.items() == [("q", "b"), ("person", "X"), ("person", "Y"), ("sort", "newest")]


def test_replaced_without_and_page():
    s = state(q="port", from_="2025-01", to="2025-03", sort="newest")
    assert s.replaced(from_="2025-02-01", to="2025-02-28").url() == \
        "/?q=port&from=2025-02-01&to=2025-02-28&sort=newest"
    assert s.without("from", "to").url() == "/?q=port&sort=newest"
    assert s.page(2).url() == "/?q=port&from=2025-01&to=2025-03&sort=newest&page=2"
    assert s.page(2).page(1).url() == "/?q=port&from=2025-01&to=2025-03&sort=newest"
    assert s.hidden_fields("q") == [("from", "2025-01"), ("to", "2025-03"), ("sort", "newest")]


def test_unknown_params_are_not_carried():
    assert SearchState({"q": ["x"], "evil": ["<script>"]}).url() == "/?q=x"


def test_hostile_values_are_url_encoded():
    assert state(q='"><script>&x=1').url() == "/?q=%22%3E%3Cscript%3E%26x%3D1"


# --- marking ---------------------------------------------------------------------------------------------------------

BODY = "Sanae Takaichi met Lee in Japan.\n\nLater, Takaichi flew home to Japan."


def article(**overrides):
    values = dict(id="a1", path="a.txt", body=BODY, title="T",
                  people=(Person("Sanae Takaichi", "sanae takaichi", ((0, 14), (41, 49))),),
                  countries=(Country("JP", "Japan", True, ((26, 31), (63, 68))),))
    values.update(overrides)
    return Article(**values)


def test_marked_paragraphs_slice_the_text_at_the_spans():
    assert marked_paragraphs(article()) == [
        [Segment("Sanae Takaichi", "person", "Sanae Takaichi", "Sanae Takaichi"), Segment(" met Lee in "),
         Segment("Japan", "country", "Japan", "JP"), Segment(".")],
        [Segment("Later, "), Segment("Takaichi", "person", "Sanae Takaichi", "Sanae Takaichi"),
         Segment(" flew home to "), Segment("Japan", "country", "Japan", "JP"), Segment(".")],
    ]


def test_bad_and_overlapping_spans_are_dropped_not_fatal():
    art = article(people=(Person("Sanae Takaichi", "k", ((0, 14), (6, 14), (60, 999), (5, 5), (-1, 3))),),
                  countries=(Country("JP", "Japan", True, ((2, 20),)),))
    assert mention_spans(art) == [(0, 14, "person", "Sanae Takaichi", "Sanae Takaichi")]
    assert "".join(s.text for p in marked_paragraphs(art) for s in p) == BODY.replace("\n\n", "")


def test_markup_in_the_body_stays_text():
    art = article(body="<script>alert(1)</script>\n\n<b>x</b>", people=(), countries=())
    assert marked_paragraphs(art) == [[Segment("<script>alert(1)</script>")], [Segment("<b>x</b>")]]


# --- labels and sanitising -------------------------------------------------------------------------------------------

def test_language_and_country_names():
    assert [language_name(c) for c in ("fr", "de", "zh-cn", "und", "xx")] == \
        ["French", "German", "Chinese (Simplified)", "Undetermined", "xx"]
    assert [country_name(c) for c in ("JP", "kr", "ZZ")] == ["Japan", "South Korea", "ZZ"]


def test_one_country_name_and_one_date_parser():
    """The page names countries as the countries facet labels them, and reads ISO dates with one parser."""
    import search.facets
    import web.views
    from web.labels import parse_iso
    assert country_name is search.facets.country_label
    assert [country_name(c) for c in (" XK ", "ABC", "")] == ["XK", "ABC", ""]
    assert not hasattr(web.views, "_parse_iso") and web.views.parse_iso is parse_iso
    assert parse_iso("2026-01-18T09:30:00+00:00").hour == 9 and parse_iso("not a date") is None


def test_dates_for_people():
    assert human_date("2026-01-18T09:30:00+00:00", with_time=True) == "18 Jan 2026, 09:30 UTC"
    assert human_date(datetime(2025, 5, 2, tzinfo=timezone.utc)) == "2 May 2025"
    assert human_date("not a date") == ""
    assert date_source_text("dateline") == "the dateline at the start of the text"


def test_only_http_links_survive():
    assert safe_link("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_link("HTTP://example.org") == "HTTP://example.org"
    for bad in ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<b>",
                "vbscript:x", "//evil.example/x", "/relative", "http://", "https://exa mple.org", ""):
        assert safe_link(bad) == "", bad


def test_highlight_keeps_only_mark():
    assert str(safe_highlight("a <mark>b</mark> &lt;c&gt;")) == "a <mark>b</mark> &lt;c&gt;"
    assert str(safe_highlight('<img src=x onerror=alert(1)><mark onclick="x">y</mark>')) == \
        '&lt;img src=x onerror=alert(1)>&lt;mark onclick="x">y</mark>'
