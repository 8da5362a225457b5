"""Partial dates (`2025`, `2025-05`, `2025-05-17`) and date ranges as the query language and filters write them."""
from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Optional

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_partial_date(text: str) -> Optional[tuple[date, date]]:
    """The first and last day of the period a partial date names, or None if it is not one."""
    m = _PARTIAL.match(text.strip())
    if not m:
        return None
    year = int(m.group(1))
    try:
        if m.group(3):
            day = date(year, int(m.group(2)), int(m.group(3)))
            return day, day
        if m.group(2):
            month = int(m.group(2))
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def parse_date_range(text: str) -> Optional[tuple[Optional[date], Optional[date]]]:
    """`A..B`, `A..`, `..B` or a single partial date as (first day, last day); None if malformed."""
    text = text.strip()
    if ".." in text:
        left, _, right = text.partition("..")
        if not left and not right:
            return None
        lo = parse_partial_date(left) if left else (None, None)
        hi = parse_partial_date(right) if right else (None, None)
        if lo is None or hi is None:
            return None
        return lo[0], hi[1]
    period = parse_partial_date(text)
    return period
