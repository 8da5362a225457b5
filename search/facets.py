"""Facet counts over the whole result set (bincounts over cached doc->value arrays), labels, the date histogram.

Every facet the table declares (index/facets.py) is counted the same way. Multi-select (`search/masks.py`
`counted_over`, the one place the rule is written): a facet whose selections OR together ("any": language,
source) counts over the result set with every filter applied except its own (so a user sees how many each other
language would add); the others ("all": people, countries) and the date histogram count over the result set
itself (their selections AND together, so clicking a value narrows to exactly its count).
Counting stories (the default when results collapse), a value counts the distinct stories among the matching
articles holding it: again what clicking it finds, as the collapsed total counts stories.
"""
from __future__ import annotations

import calendar
import logging
from datetime import date
from functools import lru_cache
from typing import Callable, Iterable, NamedTuple, Optional

import numpy as np

from index import schema as S
from index.language import language_name
from index.facets import Facet, declared
from search.masks import Masks, counted_over, stored_value
from search.model import FacetBucket, SearchRequest
from search.snapshot import Snapshot, Stories

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1).toordinal()
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Counted(NamedTuple):
    """The facets of a result set: buckets per facet, the date histogram's interval, the facets that failed."""

    facets: dict          # {facet name: tuple[FacetBucket, ...]}, "date" the histogram; a failed facet: ()
    interval: str         # day | month | year
    failed: tuple         # the names of the facets whose counting failed (logged), as datasette lists them


def count_facets(snap: Snapshot, request: SearchRequest, masks: Masks,
                 final_docs: np.ndarray | None = None) -> Counted:
    """Every declared facet and the date histogram over the request's result set. A facet whose counting fails
    degrades alone: logged, listed in `failed` (not shown as a facet without values), the search goes on.
    `final_docs`: np.flatnonzero(masks.final) when the caller has it."""
    st = snap.stories() if request.count_stories else None
    facets, failed = {}, []
    found: dict[int, tuple] = {}   # id(mask) -> (mask, its documents): facets counting over one set share them
    if final_docs is not None:
        found[id(masks.final)] = (masks.final, final_docs)

    def docs_of(mask: np.ndarray) -> np.ndarray:
        if id(mask) not in found:
            found[id(mask)] = (mask, np.flatnonzero(mask))
        return found[id(mask)][1]

    for facet in declared():
        try:
            facets[facet.name] = facet_buckets(snap, facet, request, masks, st, docs_of)
        except Exception:
            log.exception("facet %s failed", facet.name)
            facets[facet.name] = ()
            failed.append(facet.name)
    interval = "month"
    try:
        interval, facets["date"] = date_histogram(snap, masks.final, request.date_from, request.date_to, st,
                                                  docs_of(masks.final))
    except Exception:
        log.exception("date histogram failed")
        facets["date"] = ()
        failed.append("date")
    return Counted(facets, interval, tuple(failed))


def facet_buckets(snap: Snapshot, facet: Facet, request: SearchRequest, masks: Masks,
                  stories: Optional[Stories], docs_of=np.flatnonzero) -> tuple[FacetBucket, ...]:
    """The top `request.facet_limit` values of one facet over what it counts (multi-select), plus the selected."""
    ff = snap.facet(facet.name)
    label = labeller(snap, facet)
    over = counted_over(masks, facet)
    return top_buckets(ff.count(over, stories, docs_of(over)), ff.values, request.facet_limit,
                       [stored_value(snap, facet, v) for v in request.selected(facet.name)], label,
                       bucket_value(snap, facet))


def labeller(snap: Snapshot, facet: Facet) -> Callable[[str], str]:
    """How the facet's stored values are shown (its declaration's `show`)."""
    if facet.show == "person":
        return snap.person_name
    if facet.show == "country":
        return country_label
    if facet.show == "language":
        return language_label
    return _same


def bucket_value(snap: Snapshot, facet: Facet) -> Callable[[str], str]:
    """A stored value as the facet's filter takes it: a person's display name for a person key, else itself."""
    return snap.person_name if facet.show == "person" else _same


def _same(value: str) -> str:
    return value


def top_buckets(counts: np.ndarray, values: list[str], limit: int, selected: Iterable[str],
                label: Callable[[str], str], value_of: Callable[[str], str] = lambda v: v) -> tuple[FacetBucket, ...]:
    """The `limit` values with the highest counts (ties by value), plus every selected value."""
    selected = set(selected)
    nonzero = np.flatnonzero(counts)
    if len(nonzero) > limit:
        part = nonzero[np.argpartition(-counts[nonzero], limit - 1)[:limit]]
        # include every value tied with the last one kept, so ties are not cut arbitrarily, then sort
        cut = counts[part].min()
        part = nonzero[counts[nonzero] >= cut]
    else:
        part = nonzero
    order = sorted(part.tolist(), key=lambda i: (-int(counts[i]), values[i]))[:limit]
    chosen = [values[i] for i in order]
    buckets = []
    shown = set()
    for i in order:
        v = value_of(values[i])
        shown.add(values[i])
        buckets.append(FacetBucket(v, label(values[i]), int(counts[i]), values[i] in selected))
    index = {v: i for i, v in enumerate(values)} if selected - set(chosen) else {}
    for raw in sorted(selected - shown):
        i = index.get(raw)
        buckets.append(FacetBucket(value_of(raw), label(raw), int(counts[i]) if i is not None else 0, True))
    return tuple(buckets)


@lru_cache(maxsize=1024)
def country_label(code: str) -> str:
    """`JP` -> Japan (the common name when pycountry has one, any case); an unknown code is shown as it is."""
    code = (code or "").strip()
    try:
        import pycountry
        found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    except (ImportError, KeyError, LookupError):
        found = None
    if found is None:
        return code
    return getattr(found, "common_name", None) or found.name


@lru_cache(maxsize=1024)
def language_label(code: str) -> str:
    """The language's readable name, as the indexer names it ("zh-tw" -> "Chinese (Traditional)")."""
    return language_name(code)


def choose_interval(lo: int, hi: int) -> str:
    """Bucket size for a range of days: days up to two months, months up to four years, else years."""
    span = hi - lo + 1
    if span <= 62:
        return "day"
    if span <= 4 * 366:
        return "month"
    return "year"


def _month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _year_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)


def date_histogram(snap: Snapshot, mask: np.ndarray, date_from: Optional[date], date_to: Optional[date],
                   stories: Optional[Stories] = None, docs: Optional[np.ndarray] = None
                   ) -> tuple[str, tuple[FacetBucket, ...]]:
    """(interval, buckets) of matching dated articles, every bucket between the first and last shown.

    With `stories`, a bucket counts the distinct stories with a matching article in it (what picking the bar
    finds: a story whose copies span two months counts in both). `docs`: np.flatnonzero(mask), when known."""
    docs = np.flatnonzero(mask) if docs is None else docs
    days = snap.day[docs]
    dated = days != S.NO_DAY
    days, docs = days[dated], docs[dated]
    if not len(days) and not (date_from and date_to):
        return "month", ()
    lo = S.day_number(date_from) if date_from else int(days.min())
    hi = S.day_number(date_to) if date_to else int(days.max())
    if len(days) and hi - lo > 100 * 366:   # an open-ended explicit range: show the span that holds articles
        lo, hi = max(lo, int(days.min())), min(hi, int(days.max()))
    if len(days):
        inside = (days >= lo) & (days <= hi)
        days, docs = days[inside], docs[inside]
    interval = choose_interval(lo, hi)
    if interval == "day":
        idx, first, last = days - lo, 0, hi - lo
    elif interval == "month":
        idx = snap.calendar_index("month")[docs]
        first, last = (int(x) for x in _month_index(np.array([lo, hi])))
        idx = idx - first
        last -= first
    else:
        idx = snap.calendar_index("year")[docs]
        first, last = (int(x) for x in _year_index(np.array([lo, hi])))
        idx = idx - first
        last -= first
    if not len(idx):
        counts = np.zeros(last + 1, dtype=np.int64)
    elif stories is not None:
        counts = stories.count_pairs(np.asarray(idx, dtype=np.int64), docs, last + 1, stories.shared(docs))
    else:
        counts = np.bincount(idx, minlength=last + 1)
    buckets = []
    for k in range(last + 1):
        start, end, value = _bucket_range(interval, lo, first, k)
        selected = bool(date_from and date_to and date_from == start and date_to == end)
        buckets.append(FacetBucket(value, _bucket_label(interval, start), int(counts[k]), selected, start, end))
    return interval, tuple(buckets)


def _bucket_range(interval: str, lo: int, first: int, k: int) -> tuple[date, date, str]:
    if interval == "day":
        d = date.fromordinal(_EPOCH + lo + k)
        return d, d, d.isoformat()
    if interval == "month":
        y, m = divmod(first + k, 12)
        y += 1970
        m += 1
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]), f"{y:04d}-{m:02d}"
    y = 1970 + first + k
    return date(y, 1, 1), date(y, 12, 31), f"{y:04d}"


def _bucket_label(interval: str, start: date) -> str:
    if interval == "day":
        return f"{start.day} {_MONTHS[start.month]} {start.year}"
    if interval == "month":
        return f"{_MONTHS[start.month]} {start.year}"
    return str(start.year)
