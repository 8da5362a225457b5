"""End to end in a real headless Chromium against `newsdex serve` on localhost, over the bundled demo articles."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from index.builder import build_index

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "web" / "demo_articles"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"newsdex serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"newsdex serve did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`newsdex serve` (python -m web.cli serve) over an index of the demo articles; yields the base URL."""
    index_root = tmp_path_factory.mktemp("browser") / "index"
    build_index([DEMO], index_root, workers=1)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--index", str(index_root), "--host", "127.0.0.1",
         "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/api/stats", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert problems == []   # no script errors, no CSP violations


def total(page) -> int:
    return int(page.locator(".count strong").inner_text().replace(",", ""))


def chips(page) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(".chips a.chip").all_inner_texts()]


def bucket(page, facet: str, index: int = 0):
    link = page.locator(f".facet-{facet} ul.buckets > li > a").nth(index)
    return link, link.locator(".b-label").inner_text(), int(link.locator(".b-count").inner_text().replace(",", ""))


def facet_counts(page, facet: str) -> dict[str, str]:
    labels = page.locator(f".facet-{facet} ul.buckets .b-label").all_inner_texts()
    return dict(zip(labels, page.locator(f".facet-{facet} ul.buckets .b-count").all_inner_texts()))


def narrowing_bucket(page, facet: str, below: int):
    """The first value of a facet that narrows the results (count below the current total)."""
    for index in range(page.locator(f".facet-{facet} ul.buckets > li > a").count()):
        link, label, count = bucket(page, facet, index)
        if count < below:
            return link, label, count
    raise AssertionError(f"no {facet} value narrows the {below} results")


def test_search_filter_unfilter_page_and_read(server, page):
    page.goto(server + "/?per_page=3")
    page.fill("header input[name=q]", "riksbank")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=riksbank"))
    assert page.input_value("header input[name=q]") == "riksbank"
    marks = page.locator("li.hit .snippet mark, li.hit .hit-title mark").all_inner_texts()
    assert marks and {m.lower().rstrip("'s") for m in marks} == {"riksbank"}
    everything = total(page)
    assert everything > 3
    # the wire story republished by two other outlets is listed once, naming them
    assert page.locator("li.hit", has_text="Also in 2 outlets").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-page.png"), full_page=True)

    # a person facet: the count it showed is the new total, and a chip says so
    languages_before = facet_counts(page, "language")
    link, person, count = narrowing_bucket(page, "people", everything)
    link.click()
    page.wait_for_url(re.compile(r"person="))
    assert total(page) == count
    assert facet_counts(page, "language") != languages_before
    assert chips(page) == [f"PERSON {person} ×"]

    # then a language facet too (person AND language)
    link, language, count = bucket(page, "language")
    link.click()
    page.wait_for_url(re.compile(r"lang="))
    assert total(page) == count
    assert chips(page) == [f"PERSON {person} ×", f"LANGUAGE {language} ×"]
    assert page.locator(".facet-language a.is-on .b-label").all_inner_texts() == [language]

    # remove the person chip: only the language filter is left
    page.locator(".chips a.chip", has_text=person).click()
    page.wait_for_url(lambda url: "person=" not in url)
    assert chips(page) == [f"LANGUAGE {language} ×"]
    assert total(page) > count   # the person filter had narrowed the results

    # page forward over the whole archive
    page.goto(server + "/?per_page=5")
    first_page = page.locator("li.hit").evaluate_all("els => els.map(e => e.dataset.id)")
    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".pagination [aria-current=page]").inner_text() == "2"
    second_page = page.locator("li.hit").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(second_page) == 5 and not set(first_page) & set(second_page)

    # open an article about the person and see the marked mentions
    page.goto(server + "/?q=riksbank")
    link, person, _ = bucket(page, "people")
    link.click()
    page.wait_for_url(re.compile(r"person="))
    page.locator("li.hit .hit-title a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    mentions = page.locator(f'.article-body mark.mention-person[data-person="{person}"]')
    assert mentions.count() >= 1
    surname = person.split()[-1]
    assert all(surname in text or person in text for text in mentions.all_inner_texts())
    assert page.locator(".article-body mark.mention-country").count() >= 1
    assert page.locator(".related li").count() >= 1


def test_histogram_bar_and_type_ahead(server, page):
    page.goto(server + "/")
    everything = total(page)
    bar = page.locator("svg.histogram a").filter(has=page.locator("rect.bar[height]")).first
    bar.click()
    page.wait_for_url(re.compile(r"from=\d{4}-\d{2}-\d{2}&to="))
    assert 0 < total(page) < everything
    assert page.input_value("input[name=from]") != ""

    page.goto(server + "/")
    box = page.locator(".facet-people input[name=prefix]")
    box.fill("eng")
    suggestion = page.locator(".facet-people .suggestions a").first
    suggestion.wait_for()
    name = suggestion.locator(".b-label").inner_text()
    assert name.lower().split()[-1].startswith("eng") or " eng" in f" {name.lower()}"
    suggestion.click()
    page.wait_for_url(re.compile(r"person="))
    assert chips(page) == [f"PERSON {name} ×"]


def test_pages_work_without_javascript(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/?q=riksbank")
        page.fill(".facet-people input[name=prefix]", "tob")
        page.press(".facet-people input[name=prefix]", "Enter")
        page.wait_for_url(re.compile(r"/facets/people\?"))
        page.locator("ul.buckets a").first.click()
        page.wait_for_url(re.compile(r"/\?q=riksbank&person="))
        assert page.locator(".chips a.chip").count() == 1
    finally:
        context.close()


def test_a_question_is_relaxed_with_a_notice_and_missing_words(server, page):
    page.goto(server + "/")
    page.fill("header input[name=q]", "what did the prime minister of japan say about korea")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=what"))
    notice = page.locator(".relaxed-note")
    assert notice.is_visible() and "Not every word was required" in notice.inner_text()
    first = page.locator("li.hit").first
    assert "Japan and South Korea" in first.locator(".hit-title").inner_text()
    assert first.locator(".missing").inner_text().startswith("Missing:")
    page.screenshot(path=str(ARTIFACTS / "relaxed-query.png"), full_page=True)
    page.locator(".relaxed-note a.require-all").click()
    page.wait_for_url(re.compile(r"AND"))
    assert page.locator(".relaxed-note").count() == 0
    assert page.locator("li.hit").count() == 0


def articles_shown(page) -> int:
    """The articles a search page counts: the total, or "(N articles)" beside a total of stories."""
    of_articles = page.locator(".count .of-articles")
    if of_articles.count():
        return int(re.sub(r"\D", "", of_articles.inner_text()))
    return total(page)


def test_from_a_chip_to_a_person_page_to_a_co_mention_search(server, page):
    page.goto(server + "/?q=riksbank")
    hit = page.locator("li.hit").filter(has=page.locator(".tag-person", has_text="Tobias Engström")).first
    hit.locator(".entities a.page-link[href^='/person/']").first.click()
    page.wait_for_url(re.compile(r"/person/tobias%20engstrom$"))
    assert page.locator("h1.entity-name").inner_text() == "Tobias Engström"
    articles = int(page.locator(".figures .articles").inner_text())
    assert articles >= 2 and page.locator(".timeline svg a").count() >= 1
    assert page.locator('head link[rel=alternate][type="application/atom+xml"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "person-page.png"), full_page=True)

    # the page's own search finds as many articles as it counts
    row = page.locator(".with-people tbody tr").first
    name = row.locator("a.co-search").inner_text()
    count = int(row.locator("td.num").first.inner_text())
    row.locator("a.co-search").click()
    page.wait_for_url(re.compile(r"/\?person=Tobias\+Engstr%C3%B6m&person="))
    assert chips(page) == ["PERSON Tobias Engström ×", f"PERSON {name} ×"]
    assert articles_shown(page) == count

    # rank by count, then narrow by a word: the page keeps both
    page.go_back()
    page.locator(".rank a.rank-count").click()
    page.wait_for_url(re.compile(r"rank=count"))
    counts = [int(t) for t in page.locator(".with-people tbody tr td.num:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    page.fill(".narrow input[name=q]", "inflation")
    page.press(".narrow input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/person/tobias%20engstrom\?.*q=inflation"))
    assert "rank=count" in page.url
    assert int(page.locator(".figures .articles").inner_text()) < articles
