"""Language identification: langdetect, seeded, on a bounded prefix; `und` when it cannot tell."""
from __future__ import annotations

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect is random without a seed

PREFIX_CHARS = 500


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 code of the text's language (langdetect's zh-cn/zh-tw kept), or `und`."""
    sample = " ".join(text[:PREFIX_CHARS * 2].split())[:PREFIX_CHARS]
    if len(sample) < 3:
        return "und"
    try:
        return detect(sample)
    except LangDetectException:
        return "und"
