"""The search page's state as URL parameters: every link (facet, chip, sort, page) is a plain, shareable URL."""
from __future__ import annotations

from typing import Iterable, Mapping
from urllib.parse import urlencode

from search import MAX_FILTER_VALUES, declared_facets

# The order parameters appear in generated URLs (the names are `newsdex search`'s flags): q, each facet's parameter
# (repeatable; index/facets.py declares them), then these.
AFTER_FILTERS = ("from", "to", "sort", "recency", "all_articles", "count", "per_page", "page")
DEFAULTS = {"sort": "relevance", "page": "1", "count": "stories"}


def filter_params() -> tuple[str, ...]:
    """The repeatable parameters: one per declared facet."""
    return tuple(f.param for f in declared_facets())


def params() -> tuple[str, ...]:
    """Every parameter of the search page's state, in URL order."""
    return ("q",) + filter_params() + AFTER_FILTERS


class SearchState:
    """An immutable set of search parameters; every change returns a new state (and goes back to page 1)."""

    def __init__(self, values: Mapping[str, Iterable[str]] | None = None):
        self._values: dict[str, tuple[str, ...]] = {}
        multi = filter_params()
        for name in params():
            got = tuple(v for v in (values or {}).get(name, ()) if v is not None and str(v).strip() != "")
            if not got:
                continue
            if name not in multi:
                got = got[-1:]
            else:   # drop repeats, keep order; a request with more values is refused, and every link repeats them
                got = tuple(dict.fromkeys(got))[:MAX_FILTER_VALUES]
            self._values[name] = got

    @classmethod
    def from_args(cls, args) -> "SearchState":
        """From a werkzeug MultiDict (request.args)."""
        return cls({name: args.getlist(name) for name in params()})

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> tuple[str, ...]:
        return self._values.get(name, ())

    def has(self, name: str, value: str | None = None) -> bool:
        return name in self._values if value is None else value in self._values.get(name, ())

    @property
    def filtered(self) -> bool:
        """True when any filter (not the query text) is set."""
        return any(name in self._values for name in filter_params() + ("from", "to"))

    def _copy(self, changes: dict, keep_page: bool = False) -> "SearchState":
        values = dict(self._values)
        values.update(changes)
        if not keep_page:
            values.pop("page", None)
        return SearchState(values)

    def toggled(self, name: str, value: str) -> "SearchState":
        """With `value` added to (or, when present, removed from) the repeatable parameter `name`."""
        current = self._values.get(name, ())
        if value in current:
            return self._copy({name: tuple(v for v in current if v != value)})
        return self._copy({name: current + (value,)})

    def without(self, *names: str) -> "SearchState":
        """With whole parameters removed."""
        return self._copy({name: () for name in names})

    def without_filters(self) -> "SearchState":
        """With every filter removed (the facets' and the dates), the query kept."""
        return self.without(*filter_params(), "from", "to")

    def replaced(self, keep_page: bool = False, **values: str | None) -> "SearchState":
        """With single-valued parameters set (None removes); `from_`/`to` spell the date bounds."""
        changes = {}
        for name, value in values.items():
            name = name.rstrip("_")
            changes[name] = () if value in (None, "") else (str(value),)
        return self._copy(changes, keep_page=keep_page)

    def page(self, number: int) -> "SearchState":
        return self.replaced(keep_page=True, page=None if number <= 1 else str(number))

    def items(self) -> list[tuple[str, str]]:
        """(name, value) pairs in URL order, defaults left out."""
        out = []
        for name in params():
            for value in self._values.get(name, ()):
                if DEFAULTS.get(name) == value:
                    continue
                out.append((name, value))
        return out

    def query_string(self) -> str:
        return urlencode(self.items())

    def url(self, base: str = "/") -> str:
        qs = self.query_string()
        return f"{base}?{qs}" if qs else base

    def hidden_fields(self, *skip: str) -> list[tuple[str, str]]:
        """The state as hidden form fields (for a form that changes `skip`)."""
        return [(name, value) for name, value in self.items() if name not in skip and name != "page"]

    def __eq__(self, other) -> bool:
        return isinstance(other, SearchState) and self.items() == other.items()

    def __repr__(self) -> str:
        return f"SearchState({self.query_string()!r})"
