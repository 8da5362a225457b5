"""Readers: files in, RawArticles (or Failures with a reason) out.

Reading is split in two so that a huge archive streams through worker processes:
`iter_units(paths)` walks the input cheaply in the main process, yielding small *units* (a file to read, one JSON
line, one Reuters <REUTERS> element); `read_unit(unit)` turns one unit into RawArticles, the expensive part (decoding,
HTML cleaning), and runs in the workers.
"""
from __future__ import annotations

import dataclasses
import gzip
import html as html_lib
import json
import os
import re
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterable, Iterator, Union

from index.html_extract import date_in_name, extract_html
from index.model import Failure, RawArticle, checksum_of

MAX_FILE_BYTES = 32 * 1024 * 1024      # one article file (text or HTML) larger than this is refused
MAX_RECORD_BYTES = 8 * 1024 * 1024     # one JSON line or Reuters element larger than this is refused
SNIFF_BYTES = 8192

TEXT_EXT = (".txt",)
HTML_EXT = (".html", ".htm", ".html.gz", ".htm.gz", ".xhtml")
JSONL_EXT = (".jsonl", ".jsonl.gz", ".ndjson")
SGML_EXT = (".sgm", ".sgml")
SUPPORTED = TEXT_EXT + HTML_EXT + JSONL_EXT + SGML_EXT


@dataclass(frozen=True)
class Unit:
    """A piece of input small enough to hand to a worker: a whole file, or one record of a multi-record file."""

    kind: str          # "text", "html", "jsonl", "sgml"
    path: str
    position: str = ""  # line number or NEWID for records
    data: bytes = b""   # the record's own bytes (records only; files are read by the worker)
    size: int = 0       # bytes this unit accounts for (progress)
    key: str = ""       # the file's place inside its archive (index.locations), which ids are made from


Item = Union[RawArticle, Failure]
Keys = Callable[[str, str], str]   # (path given, file's path relative to it) -> the file's key


def key_of(rel: str) -> str:
    """A path inside an archive as a key: "/" between folders, Unicode NFC (macOS writes names decomposed)."""
    return unicodedata.normalize("NFC", rel.replace(os.sep, "/"))


def _plain_keys(given: str, rel: str) -> str:
    return key_of(rel)


def kind_of(path: str) -> str | None:
    """The reader for a file name, or None when newsdex does not read that kind of file."""
    name = path.lower()
    for kind, exts in (("html", HTML_EXT), ("jsonl", JSONL_EXT), ("sgml", SGML_EXT), ("text", TEXT_EXT)):
        if name.endswith(exts):
            return kind
    return None


def walk(paths: Iterable[str | os.PathLike], problems: list | None = None) -> Iterator[tuple[str, str | None, str]]:
    """(path, kind, path relative to the folder given, or the name of a file given) for every file under the given
    paths, recursively, in a stable order; hidden files skipped.

    Linked folders are followed once their own folder's tree is done, and a folder already read (a link loop, or
    a second way into one) is not read again. Folders that cannot be listed or entered, and links not followed,
    go into `problems` as ("failed" or "skipped", Failure)."""
    for given in paths:
        given = os.fspath(given)
        if os.path.isdir(given):
            yield from _walk_folder(given, [] if problems is None else problems)
        else:
            yield given, kind_of(given) or "text", os.path.basename(given)


def _walk_folder(given: str, problems: list) -> Iterator[tuple[str, str | None, str]]:
    seen: dict[tuple, str] = {}     # (device, inode) of each folder read -> the path it was read by
    tops = [given]                  # the folder given, then the linked folders found in it (breadth first)
    while tops:
        top = tops.pop(0)
        first = seen.setdefault(_identity(top), top)
        if first != top:
            problems.append(("skipped", Failure(top, f"a link to a folder already read ({first}); not read again")))
            continue
        for dirpath, dirnames, filenames in os.walk(top, onerror=lambda exc: _unreadable(exc, problems)):
            if not _can_enter(dirpath, dirnames + filenames, problems):
                dirnames[:] = []
                continue
            real = []
            for name in sorted(d for d in dirnames if not d.startswith(".")):
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    tops.append(full)   # after the real folders, so a folder is read by its own path first
                    continue
                first = seen.setdefault(_identity(full), full)
                if first != full:   # reached again through a linked folder above it
                    problems.append(("skipped", Failure(full, f"a folder already read ({first}); not read again")))
                    continue
                real.append(name)
            dirnames[:] = real
            for name in sorted(filenames):
                if not name.startswith("."):
                    full = os.path.join(dirpath, name)
                    yield full, kind_of(full), os.path.relpath(full, given)


def _identity(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return ("unreadable", path)
    return (st.st_dev, st.st_ino)


def _unreadable(exc: OSError, problems: list) -> None:
    """os.walk's report of a folder it cannot list."""
    problems.append(("failed", Failure(exc.filename, f"cannot read this folder ({_os_reason(exc)}); the files in "
                                                     f"it were not indexed")))


def _can_enter(folder: str, names: list[str], problems: list) -> bool:
    """False (and a problem) for a folder that lists but cannot be entered (no x permission)."""
    if not names:
        return True
    try:
        os.lstat(os.path.join(folder, names[0]))
    except PermissionError as exc:
        problems.append(("failed", Failure(folder, f"cannot enter this folder ({_os_reason(exc)}); the files "
                                                   f"in it were not indexed")))
        return False
    except OSError:
        pass
    return True


def iter_units(paths: Iterable[str | os.PathLike], ignored: list | None = None,
               keys: Keys | None = None, skipped: list | None = None) -> Iterator[Unit | Failure]:
    """Units of work for every readable file under `paths`; Failures for what cannot even be opened.

    Files of unknown kinds inside folders are listed in `ignored` (a named file of unknown kind is read as text),
    linked folders not read twice in `skipped`. `keys` gives each file its key (default: its path relative to
    the path given).
    """
    keys = keys or _plain_keys
    problems: list = []
    for given in map(os.fspath, paths):
        for path, kind, rel in walk([given], problems):
            yield from _problems(problems, skipped)
            yield from _file_units(path, kind, keys(given, rel), ignored)
        yield from _problems(problems, skipped)


def _problems(problems: list, skipped: list | None) -> Iterator[Failure]:
    """The failures among walk's problems (the skipped ones go to `skipped`); empties the list."""
    for what, failure in problems:
        if what == "failed":
            yield failure
        elif skipped is not None:
            skipped.append(failure)
    problems.clear()


def _file_units(path: str, kind: str | None, key: str, ignored: list | None) -> Iterator[Unit | Failure]:
    """The units of one file found by walk (a Failure when it cannot even be opened)."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        yield Failure(path, "no such file or folder")
        return
    except OSError as exc:   # e.g. a folder on the way that cannot be entered
        yield Failure(path, _os_reason(exc))
        return
    if os.path.islink(path) and not os.path.exists(path):
        yield Failure(path, f"broken link (points to {os.readlink(path)})")
        return
    if kind is None:
        if ignored is not None:
            ignored.append(Failure(path, "not an article file type (" + ", ".join(SUPPORTED) + ")"))
        return
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        yield Failure(path, _os_reason(exc))
        return
    if kind in ("jsonl", "sgml"):
        for unit in _record_units(path, kind, size):
            yield dataclasses.replace(unit, key=key) if isinstance(unit, Unit) else unit
    elif size > MAX_FILE_BYTES:
        yield Failure(path, f"file too large ({size / 2**20:.1f} MiB; the limit for one article is "
                            f"{MAX_FILE_BYTES // 2**20} MiB)")
    else:
        yield Unit(kind, path, size=size, key=key)


def _record_units(path: str, kind: str, size: int) -> Iterator[Unit | Failure]:
    try:
        if kind == "jsonl":
            yield from _jsonl_units(path)
        else:
            yield from _sgml_units(path, size)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield Failure(path, _os_reason(exc) if isinstance(exc, OSError) and exc.errno else f"unreadable: {exc}")


def _open_maybe_gzip(path: str):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _jsonl_units(path: str) -> Iterator[Unit | Failure]:
    lineno = records = 0
    with _open_maybe_gzip(path) as fh:
        try:
            for lineno, line, size in _lines(fh, MAX_RECORD_BYTES):
                if line is not None and not line.strip():
                    continue
                records += 1
                if line is None:
                    yield Failure(path, f"record too large ({size / 2**20:.1f} MiB; the limit for one record is "
                                        f"{MAX_RECORD_BYTES // 2**20} MiB)", f"line {lineno}")
                    continue
                yield Unit("jsonl", path, f"line {lineno}", line, size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:   # what was read before stays read
            yield Failure(path, f"the compressed data is cut off or damaged here ({exc}); "
                                f"{f'lines 1-{lineno} were read' if lineno else 'nothing could be read'}",
                          f"line {lineno + 1}")
            return
    if not records:
        yield Failure(path, "empty file")


def _lines(fh, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, the line or None when it is longer than `limit` bytes, its size) for each line of a binary
    file, never holding more than `limit` bytes of one line (a 600 MB line is skipped, not read into memory)."""
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) <= limit:
            yield lineno, line, len(line)
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = fh.readline(1 << 20)
            if not line:
                break
            size += len(line)
        yield lineno, None, size


_REUTERS = re.compile(rb"<REUTERS\b[^>]*>.*?</REUTERS>", re.S)
_NEWID = re.compile(rb'NEWID="(\d+)"')


def _sgml_units(path: str, size: int) -> Iterator[Unit | Failure]:
    with _open_maybe_gzip(path) as fh:
        data = fh.read(MAX_FILE_BYTES * 8 + 1)
    if not data.strip():
        yield Failure(path, "empty file")
        return
    if len(data) > MAX_FILE_BYTES * 8:
        yield Failure(path, f"SGML file too large (over {MAX_FILE_BYTES * 8 // 2**20} MiB); split it")
        return
    found = False
    for match in _REUTERS.finditer(data):
        found = True
        chunk = match.group()
        newid = _NEWID.search(chunk[:300])
        yield Unit("sgml", path, f"NEWID {newid.group(1).decode()}" if newid else f"offset {match.start()}",
                   chunk, len(chunk))
    if not found:
        yield Failure(path, "no <REUTERS> elements found (not a Reuters-21578 SGML file?)")


def read_unit(unit: Unit) -> list[Item]:
    """The articles (or the reason there are none) in one unit, each with the unit's key; never raises for bad
    input."""
    items = _read_unit(unit)
    if unit.key:
        items = [dataclasses.replace(item, key=unit.key) if isinstance(item, RawArticle) else item for item in items]
    return items


def _read_unit(unit: Unit) -> list[Item]:
    try:
        if unit.kind == "jsonl":
            return [read_json_record(unit.data, unit.path, unit.position)]
        if unit.kind == "sgml":
            return [read_reuters_element(unit.data, unit.path, unit.position)]
        data = _read_file_bytes(unit.path)
        if isinstance(data, Failure):
            return [data]
        if unit.kind == "html":
            return [read_html_bytes(data, unit.path)]
        return [read_text_bytes(data, unit.path)]
    except Exception as exc:  # a reader bug must cost one file, not the batch
        return [Failure(unit.path, f"internal error while reading: {type(exc).__name__}: {exc}", unit.position)]


def read_path(path: str | os.PathLike) -> list[Item]:
    """Everything in one file or folder, read in this process (tests, `newsdex inspect`)."""
    out: list[Item] = []
    for unit in iter_units([path]):
        out.extend([unit] if isinstance(unit, Failure) else read_unit(unit))
    return out


# --- file bytes -------------------------------------------------------------------------------------------------

def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file vanished while being read"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {exc.strerror or exc}"


def _read_file_bytes(path: str) -> bytes | Failure:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return Failure(path, _os_reason(exc))
    if len(data) > MAX_FILE_BYTES:
        return Failure(path, f"file too large (over {MAX_FILE_BYTES // 2**20} MiB)")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            return Failure(path, f"corrupt gzip data: {exc}")
    if not data.strip():
        return Failure(path, "empty file")
    return data


def _looks_binary(data: bytes) -> bool:
    head = data[:SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 with a BOM
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, note): UTF-8 (BOM-aware), UTF-16 with a BOM, else Windows-1252 with a note saying so."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), ""
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        where = exc.start
    try:
        text = data.decode("cp1252")
        return text, f"not valid UTF-8 (byte 0x{data[where]:02x} at offset {where}); read as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), (f"not valid UTF-8 (byte 0x{data[where]:02x} at offset "
                                                         f"{where}); undecodable bytes replaced")


# --- plain-text news format --------------------------------------------------------------------------------------

# " date 2026-01-18 MENAFN - Gulf Times) Japan and South Korea ..."
_DATELINE = re.compile(
    r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(?:(?P<via>[^)\n]*?)\s+-\s+)?(?P<source>[^)\n]{1,120}?)\s*\)\s*", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])[\"'”’»)]*\s+(?=[\"'“‘«(]?[A-Z0-9À-ÖØ-ÞА-Я])|(?<=[。！？])")
TITLE_MAX = 140


def read_text_bytes(data: bytes, path: str) -> Item:
    """An article in the plain-text news format (dateline, paragraphs, keyword line), or plain prose."""
    if _looks_binary(data):
        return Failure(path, "binary file, not text")
    text, note = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    published, date_source, via, source = None, "none", "", ""
    match = _DATELINE.match(text)
    if match:
        published = _parse_day(match.group(1))
        date_source = "dateline" if published else "none"
        via = (match.group("via") or "").strip()
        source = match.group("source").strip()
        text = text[match.end():]
    paragraphs = split_paragraphs(text)
    keywords: tuple[str, ...] = ()
    if match and len(paragraphs) > 1 and _is_keyword_line(paragraphs[-1]):
        keywords = (paragraphs.pop(),)
    title, title_source = "", "derived"
    if not match and len(paragraphs) > 1 and _is_heading(paragraphs[0]):
        title, title_source = paragraphs.pop(0), "first-line"
    body = "\n\n".join(paragraphs)
    if not body:
        return Failure(path, "no article text")
    if not title:
        title = derive_title(body)
    if published is None:
        published = date_from_filename(path)
        date_source = "filename" if published else "none"
    return RawArticle(path=path, body=body, title=title, title_source=title_source, published=published,
                      date_source=date_source, source=source, via=via, keywords=keywords,
                      checksum=checksum_of(data), note=note)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, each with its internal whitespace folded."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _is_keyword_line(paragraph: str) -> bool:
    """The format's closing keyword line: one short line of words with no sentence punctuation."""
    return (len(paragraph) <= 300 and not re.search(r"[.!?;:\"“”。]\s*$", paragraph)
            and not re.search(r"[.!?。]\s", paragraph))


def _is_heading(paragraph: str) -> bool:
    return len(paragraph) <= TITLE_MAX and not paragraph.endswith((".", "。", ":", ",")) and "\n" not in paragraph


def derive_title(body: str) -> str:
    """A headline for an article that has none: its first sentence, trimmed at a word boundary."""
    first = body.split("\n\n", 1)[0]
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    if len(sentence) <= TITLE_MAX:
        return sentence
    cut = sentence[:TITLE_MAX]
    if " " in cut[TITLE_MAX // 2:]:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(",;:- ") + "…"


def _parse_day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def date_from_filename(path: str) -> datetime | None:
    """A YYYY-MM-DD (or YYYYMMDD) date in the file's name (index.html_extract.date_in_name)."""
    return date_in_name(os.path.basename(path))


# --- HTML ----------------------------------------------------------------------------------------------------------

def read_html_bytes(data: bytes, path: str, url: str = "") -> Item:
    """An HTML page's article text and metadata."""
    if _looks_binary(data):
        return Failure(path, "binary file, not HTML")
    page = extract_html(data, url=url)
    if not page.body.strip():
        return Failure(path, "no article text found in the page")
    published, date_source = page.published, page.date_source
    if published is None:
        published = date_from_filename(path)
        date_source = "filename" if published else "none"
    title, title_source = page.title, page.title_source
    if not title:
        title, title_source = derive_title(page.body), "derived"
    return RawArticle(path=path, body=page.body, title=title, title_source=title_source, url=page.url,
                      published=published, date_source=date_source, source=page.source, language=page.language,
                      checksum=checksum_of(data))


# --- JSON Lines ----------------------------------------------------------------------------------------------------

_BODY_KEYS = ("text", "body", "content", "article", "articleBody")
_DATE_KEYS = ("published", "date", "datePublished", "published_at", "pubdate", "time")


def read_json_record(line: bytes, path: str, position: str) -> Item:
    """One JSON Lines record: `id`, `url`, `title`, `text`/`body`/`html`, `date`/`published`, `source`, `language`."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Failure(path, f"not valid JSON: {exc}", position)
    if not isinstance(record, dict):
        return Failure(path, f"a JSON line must be an object, got {type(record).__name__}", position)
    note = ""
    if _ESCAPED_SURROGATE.search(line):   # only a \uD800-\uDFFF escape can make a lone surrogate
        found: list = []
        record = _without_surrogates(record, found)
        if found:
            field, code = found[0]
            note = (f"invalid Unicode: a lone surrogate \\u{ord(code):04x} in \"{field}\" (half of a UTF-16 pair, not "
                    f"a character); replaced by U+FFFD")
    record_id = record.get("id")
    if isinstance(record_id, bool) or not isinstance(record_id, (str, int, type(None))):
        return Failure(path, f"the \"id\" must be a string or a whole number, not {_json_kind(record_id)}: "
                             f"{json.dumps(record_id, ensure_ascii=False)[:80]}", position)
    body = next((record[k] for k in _BODY_KEYS if isinstance(record.get(k), str) and record[k].strip()), "")
    title = _str(record.get("title") or record.get("headline"))
    url = _str(record.get("url") or record.get("link"))
    source, language = _str(record.get("source") or record.get("outlet")), _str(record.get("language") or record.get("lang"))
    published, date_source = None, "none"
    raw_date = next((record[k] for k in _DATE_KEYS if record.get(k)), None)
    if raw_date is not None:
        published = parse_date(raw_date)
        date_source = "json" if published else "none"
    if not body and isinstance(record.get("html"), str) and record["html"].strip():
        page = extract_html(record["html"], url=url)
        body = page.body
        title = title or page.title
        source = source or page.source
        language = language or page.language
        if published is None and page.published:
            published, date_source = page.published, page.date_source
    if isinstance(body, str):
        body = "\n\n".join(split_paragraphs(body.replace("\r\n", "\n")))
    if not body:
        return Failure(path, "record has no text (expected one of: text, body, html)", position)
    record_id = str(record_id).strip() if record_id not in (None, "") else ""
    return RawArticle(path=path, body=body, title=title or derive_title(body),
                      title_source="json" if title else "derived", url=url, published=published,
                      date_source=date_source, source=source, language=language.lower(),
                      keywords=tuple(_str(k) for k in record.get("keywords") or () if _str(k)),
                      record_id=record_id, position=position, checksum=checksum_of(line), note=note)


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value, found: list, field: str = ""):
    """`value` with lone surrogates (which JSON can escape but UTF-8 cannot hold) replaced by U+FFFD; the first
    one's top-level field and code point are appended to `found`."""
    if isinstance(value, str):
        match = _SURROGATE.search(value)
        if match is None:
            return value
        if not found:
            found.append((field, match.group()))
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(k, found, field or "key"): _without_surrogates(v, found, field or k)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v, found, field) for v in value]
    return value


def _json_kind(value) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, bool):
        return "true or false"
    return {dict: "an object", list: "an array", float: "a decimal number"}.get(type(value), type(value).__name__)


def _str(value) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def parse_date(value) -> datetime | None:
    """ISO 8601 dates and datetimes (with or without zone; naive means UTC), or epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


# --- Reuters-21578 SGML --------------------------------------------------------------------------------------------

_TAG = {name: re.compile(rf"<{name}\b[^>]*>(.*?)</{name}>", re.S)
        for name in ("TITLE", "DATELINE", "BODY", "DATE", "TEXT")}
_CONTROL_REF = re.compile(r"&#(\d+);")
_SIGNATURE = re.compile(r"\s*\bReuter\s*$", re.I)
_TAGS = re.compile(r"</?[A-Z]+[^>]*>")


def _sgml_text(raw: str) -> str:
    """Unescape Reuters SGML text: control references dropped, &lt; &gt; &amp; resolved."""
    raw = _CONTROL_REF.sub(lambda m: "" if int(m.group(1)) < 32 else chr(int(m.group(1))), raw)
    return html_lib.unescape(raw)


def read_reuters_element(chunk: bytes, path: str, position: str) -> Item:
    """One <REUTERS> element of Reuters-21578 (Latin-1 bytes)."""
    text = chunk.decode("latin-1")
    newid = re.search(r'NEWID="(\d+)"', text)
    found = {name: (m.group(1) if (m := rx.search(text)) else "") for name, rx in _TAG.items()}
    body_raw = found["BODY"]
    if not body_raw.strip() and found["TEXT"]:
        body_raw = _TAGS.sub(" ", found["TEXT"])   # UNPROC/BRIEF items have no <BODY>
        body_raw = re.sub(r"<TITLE>.*?</TITLE>|<DATELINE>.*?</DATELINE>", "", body_raw, flags=re.S)
    title = " ".join(_sgml_text(found["TITLE"]).split())
    dateline = " ".join(_sgml_text(found["DATELINE"]).split())
    body = _SIGNATURE.sub("", _sgml_text(body_raw).strip())
    # Paragraphs start with an indented line; lines inside a paragraph are hard-wrapped at ~65 columns.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s{2,}|\n\s*\n", body) if p.strip()]
    if paragraphs and dateline:
        paragraphs[0] = f"{dateline} {paragraphs[0]}"
    body = "\n\n".join(paragraphs)
    if not body:
        if not title:
            return Failure(path, "Reuters item has neither title nor body", position)
        body = title
    published = parse_reuters_date(found["DATE"])
    return RawArticle(path=path, body=body, title=title or derive_title(body),
                      title_source="sgml" if title else "derived", published=published,
                      date_source="sgml" if published else "none", source="Reuters",
                      record_id=f"reuters-{newid.group(1)}" if newid else "", position=position,
                      checksum=checksum_of(chunk))


_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                                       "DEC"), 1)}


def parse_reuters_date(text: str) -> datetime | None:
    """'26-FEB-1987 15:01:01.79' -> aware UTC datetime (None for the few malformed ones)."""
    m = re.match(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})", text.upper())
    if not m or m.group(2) not in _MONTHS:
        return None
    try:
        return datetime(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)), int(m.group(4)), int(m.group(5)),
                        int(m.group(6)), tzinfo=timezone.utc)
    except ValueError:
        return None
