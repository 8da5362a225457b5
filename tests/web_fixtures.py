"""A small real index for the web tests: ordinary articles in three languages plus hostile ones.

The articles are written here (fictional people and outlets); the index is built with the real indexer.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.builder import build_index

LONG_TITLE = "Harbour " * 700 + "end"

# (id, date, source, language hint, title, url, text)
ARTICLES = [
    ("hp-001", "2025-01-14", "The Harbour Post", "en", "Dockers at Antwerp harbour vote to strike over automation",
     "https://www.harbourpost.example/antwerp-vote",
     "Dockers at the Antwerp harbour voted on Tuesday to strike over automation plans, union leaders said.\n\n"
     "Union leader Pieter Claes said the harbour could lose hundreds of jobs if cranes were automated. "
     "Belgium's government said it would meet both sides.\n\n"
     "Shipping lines warned that a long strike would push cargo towards Rotterdam in the Netherlands."),
    ("hp-002", "2025-02-03", "The Harbour Post", "en", "Strike closes Antwerp harbour as ships queue offshore",
     "https://www.harbourpost.example/antwerp-strike",
     "The strike at Antwerp harbour entered its second day, with dozens of ships waiting at anchor offshore.\n\n"
     "Pieter Claes told reporters the dockers would not return until the automation plan was withdrawn. "
     "Belgium's transport minister called for talks."),
    ("nw-001", "2025-03-20", "Nordic Wire", "en", "Riksbank cuts its policy rate as inflation cools in Sweden",
     "https://nordicwire.example/riksbank-cut",
     "Sweden's central bank cut its policy rate by a quarter point on Thursday, saying inflation had cooled.\n\n"
     "Governor Tobias Engström said the economy needed support after a weak winter. "
     "The krona weakened against the euro after the decision."),
    ("nw-002", "2025-04-18", "Nordic Wire", "en", "Riksbank holds rates and signals a long pause",
     "https://nordicwire.example/riksbank-hold",
     "The Riksbank left its policy rate unchanged on Friday and said it expected to keep it there for months.\n\n"
     "Governor Tobias Engström said Sweden's inflation was close to target. "
     "Deputy governor Maja Lindholm said the central bank would watch energy prices."),
    ("gt-001", "2025-05-22", "Gulf Times", "en", "Coral reefs off Okinawa recover after a cool summer",
     "https://gulftimes.example/okinawa-coral",
     "Coral reefs off Okinawa in Japan are recovering after an unusually cool summer, marine biologists said.\n\n"
     "Yuki Harada, a biologist in Naha, said new coral had grown on reefs that bleached two years ago. "
     "Japan's environment ministry will fund more surveys."),
    ("gt-002", "2025-06-30", "Gulf Times", "en", "Japan and South Korea agree to share coral reef data",
     "https://gulftimes.example/reef-data",
     "Japan and South Korea agreed to share data on coral reefs and ocean temperatures, officials said.\n\n"
     "Yuki Harada said the harbour surveys in Okinawa would be published every month."),
    ("gt-003", "2025-07-03", "Gulf Times", "en", "Brazil coffee harvest beats forecasts despite dry weather",
     "https://gulftimes.example/brazil-coffee",
     "Brazil's coffee harvest beat forecasts this year despite a dry winter in Minas Gerais, traders said.\n\n"
     "Finance minister Ana Beatriz Coutinho said export revenue would help the budget."),
    ("gs-001", "2025-08-14", "La Gazette du Soir", "fr", "Grève au port d'Anvers : les dockers bloquent le terminal",
     "https://gazette.example/greve-anvers",
     "Les dockers du port d'Anvers ont bloqué le terminal à conteneurs jeudi pour protester contre "
     "l'automatisation des grues, selon le syndicat.\n\n"
     "Le ministre belge des Transports a appelé les deux parties à reprendre le dialogue. "
     "La Belgique craint que les armateurs ne se tournent vers Rotterdam."),
    ("gs-002", "2025-09-18", "La Gazette du Soir", "fr", "La banque centrale suédoise maintient son taux directeur",
     "https://gazette.example/riksbank-taux",
     "La banque centrale de Suède a maintenu jeudi son taux directeur, estimant que l'inflation était "
     "proche de sa cible.\n\n"
     "Le gouverneur Tobias Engström a déclaré que la couronne suédoise restait stable face à l'euro."),
    ("ra-001", "2025-10-21", "Rheinischer Abendbote", "de", "Streik im Hafen von Antwerpen legt Containerverkehr lahm",
     "https://abendbote.example/streik-antwerpen",
     "Ein Streik der Hafenarbeiter in Antwerpen hat am Dienstag den Containerverkehr lahmgelegt, teilte die "
     "Gewerkschaft mit.\n\n"
     "Die belgische Regierung rief beide Seiten zu Gesprächen auf. Reedereien wichen nach Rotterdam aus."),
    ("ra-002", "2025-11-18", "Rheinischer Abendbote", "de", "Schwedens Notenbank senkt den Leitzins erneut",
     "https://abendbote.example/riksbank-zins",
     "Die schwedische Notenbank hat den Leitzins am Donnerstag erneut gesenkt, weil die Inflation nachlässt.\n\n"
     "Notenbankchef Tobias Engström sagte, die Wirtschaft in Schweden brauche weitere Unterstützung."),
    ("world/042", "2025-12-02", "Pacific Ledger", "en", "Port workers in Peru join a regional harbour strike",
     "http://pacificledger.example/peru-port",
     "Port workers in Callao, Peru, joined a regional strike on Tuesday, halting harbour cranes for a day.\n\n"
     "Union leader Hernán Quispe said the strike would continue until wages were raised."),
    # Hostile records: markup and script URLs in every field a page shows.
    ("evil-1", "2026-01-10", "<i>Evil</i> Outlet", "en",
     '<script>alert("title")</script> Harbour cranes <img src=x onerror=alert(1)>',
     "javascript:alert(document.cookie)",
     'The harbour cranes stopped. <script>alert("body")</script> An <b onmouseover="alert(2)">unusual</b> '
     'note was left at the gate, with a link <a href="javascript:alert(3)">click here</a>.\n\n'
     "Officials said the cranes would restart on Monday after repairs to the harbour control room."),
    ("evil-2", "2026-01-11", "Evil Outlet", "en", LONG_TITLE, " JaVa\tScRiPt:alert(1)",
     "A very long headline was attached to this harbour report about cranes and ships in the port.\n\n"
     "The port authority said the ships would be unloaded by Friday."),
]

SEED_TEXT = (" date 2025-12-20 NEWSLINK - Nordic Wire) Sweden's Riksbank governor Tobias Engström warned on Saturday "
             "that cash must remain available across Sweden.\n\n"
             "Engström said a fully digital payment system would leave the country exposed to power cuts.\n\n"
             "riksbank cash payments sweden\n")

HOSTILE_HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>Harbour pilots protest &lt;script&gt; rules - The Harbour Post</title>
<meta property="og:title" content="Harbour pilots protest new rules">
<meta property="og:site_name" content="The Harbour Post">
<meta property="article:published_time" content="2026-01-12T08:00:00+00:00">
<link rel="canonical" href="javascript:alert('canonical')">
<script>window.stolen = document.cookie;</script>
</head><body><article><h1>Harbour pilots protest new rules</h1>
<p>Harbour pilots in Antwerp protested on Monday against new rules for guiding ships into the port, saying the
changes were rushed. <img src="x" onerror="alert('img')"> The pilots' union said it would meet the port authority.</p>
<p>A spokesman wrote &lt;script&gt;alert('escaped')&lt;/script&gt; in a statement that was later withdrawn, and
the harbour master said the rules would be reviewed by the end of the month.</p>
<p><a href="javascript:alert('link')">Read more</a> about the harbour pilots and the port of Antwerp in Belgium.</p>
</article></body></html>
"""


def write_corpus(folder: Path) -> Path:
    """Write the fixture articles (JSON Lines, a seed-format text file, a hostile HTML page) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for aid, day, source, lang, title, url, text in ARTICLES:
            record = {"id": aid, "date": day, "source": source, "language": lang, "title": title, "url": url,
                      "text": text}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    (folder / "newslink-2025-12-20-riksbank-cash.txt").write_text(SEED_TEXT, encoding="utf-8")
    (folder / "harbourpost-2026-01-12-pilots.html").write_text(HOSTILE_HTML, encoding="utf-8")
    return folder


def build(folder: Path, index_root: Path) -> Path:
    """Build a real index of the fixture corpus at `index_root`."""
    report = build_index([write_corpus(folder)], index_root, workers=1)
    assert report.failed == [], report.failed
    return index_root


@pytest.fixture(scope="session")
def web_index(tmp_path_factory) -> Path:
    """The fixture corpus, indexed once per test session."""
    base = tmp_path_factory.mktemp("web-index")
    return build(base / "corpus", base / "index")
