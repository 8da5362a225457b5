"""Language detection quality and speed on MasakhaNEWS (full articles) and SIB-200 (single sentences).

    .venv/bin/python -m bench.language [CORPORA] [--repeat 3] [--baseline]

CORPORA defaults to ../shared/corpora relative to the repo root. Figures:

- MasakhaNEWS dev (16 languages): accuracy on the languages langdetect has profiles for (en, fr, so, sw), and for the
  others the share labelled `und` or correctly ("honest"). Nigerian Pidgin (pcm, no ISO 639-1 code) is shown on its
  own line: `en` is the closest answer there is, and it is counted in neither figure.
- SIB-200 train+dev (800 sentences per language): per-language accuracy for 30 widely spoken languages (ordered by
  total speakers, roughly Ethnologue's list, restricted to those SIB-200 has), zho_Hant added; plus, over all 205
  varieties, how often a sentence in a language we cannot name gets a wrong label.
- Median milliseconds per MasakhaNEWS article (headline + text, as the indexer passes it), median of --repeat runs.
  Wall time on a shared machine: noisy; process CPU time is printed beside it.

--baseline also runs plain `langdetect.detect` (seeded, first 500 characters, the previous placeholder) for comparison.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from index.language import analyse, detect_language

REPO = Path(__file__).resolve().parent.parent
SUPPORTED = {"eng": "en", "fra": "fr", "som": "so", "swa": "sw"}       # langdetect has profiles for these
UNSUPPORTED = {"amh": "am", "hau": "ha", "ibo": "ig", "lin": "ln", "lug": "lg", "orm": "om", "run": "rn",
               "sna": "sn", "tir": "ti", "xho": "xh", "yor": "yo"}
# (SIB-200 variety, the answer that counts as right); the rest of the answers count as wrong except `und`.
SIB_TOP30 = [
    ("eng_Latn", "en"), ("zho_Hans", "zh-cn"), ("hin_Deva", "hi"), ("spa_Latn", "es"), ("fra_Latn", "fr"),
    ("arb_Arab", "ar"), ("ben_Beng", "bn"), ("por_Latn", "pt"), ("rus_Cyrl", "ru"), ("urd_Arab", "ur"),
    ("ind_Latn", "id"), ("deu_Latn", "de"), ("jpn_Jpan", "ja"), ("mar_Deva", "mr"), ("tel_Telu", "te"),
    ("tur_Latn", "tr"), ("tam_Taml", "ta"), ("yue_Hant", "zh-tw"), ("vie_Latn", "vi"), ("tgl_Latn", "tl"),
    ("kor_Hang", "ko"), ("pes_Arab", "fa"), ("hau_Latn", "ha"), ("arz_Arab", "ar"), ("swh_Latn", "sw"),
    ("jav_Latn", "jv"), ("ita_Latn", "it"), ("pan_Guru", "pa"), ("guj_Gujr", "gu"), ("tha_Thai", "th"),
    ("zho_Hant", "zh-tw"),
]


def read_jsonl(path: Path) -> list[dict]:
    """All rows of a gzipped JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def article_text(row: dict) -> str:
    """Headline and body as the indexer hands them to the detector."""
    return f"{row.get('headline', '')}\n\n{row['text']}"


def langdetect_baseline(text: str) -> str:
    """The previous behaviour: langdetect.detect on the first 500 characters, `und` on its exception."""
    from langdetect import DetectorFactory, LangDetectException, detect
    DetectorFactory.seed = 0
    try:
        return detect(" ".join(text[:1000].split())[:500])
    except LangDetectException:
        return "und"


def masakhane(rows: list[dict], detect) -> dict:
    """Per-language answers and the two headline figures."""
    answers = defaultdict(Counter)
    for row in rows:
        answers[row["lang"]][detect(article_text(row))] += 1
    sup_n = sum(sum(answers[lang].values()) for lang in SUPPORTED)
    sup_ok = sum(answers[lang][code] for lang, code in SUPPORTED.items())
    uns_n = sum(sum(answers[lang].values()) for lang in UNSUPPORTED)
    uns_ok = sum(answers[lang]["und"] + answers[lang][code] for lang, code in UNSUPPORTED.items())
    return {"answers": answers, "supported": (sup_ok, sup_n), "unsupported_honest": (uns_ok, uns_n)}


def print_masakhane(result: dict, label: str) -> None:
    """The MasakhaNEWS table."""
    ok, n = result["supported"]
    print(f"\nMasakhaNEWS dev, {label}: supported accuracy {ok / n:.4f} ({ok}/{n})", end="; ")
    ok, n = result["unsupported_honest"]
    print(f"unsupported und-or-correct {ok / n:.4f} ({ok}/{n})")
    for lang, counts in sorted(result["answers"].items()):
        right = SUPPORTED.get(lang) or UNSUPPORTED.get(lang) or "en"
        total = sum(counts.values())
        kind = "supported" if lang in SUPPORTED else "unsupported" if lang in UNSUPPORTED else "pidgin"
        top = ", ".join(f"{code} {count}" for code, count in counts.most_common(4))
        print(f"  {lang} ({kind:<11} -> {right:<2}) n={total:<4} correct {counts[right] / total:.3f}  "
              f"und {counts['und'] / total:.3f}   [{top}]")


def sib(rows: list[dict], detect) -> None:
    """Per-language accuracy for the top 30 and the wrong-label rate over every variety."""
    by_lang = defaultdict(list)
    for row in rows:
        by_lang[row["lang"]].append(row["text"])
    print("\nSIB-200 train+dev sentences (800 per language): accuracy / und share / top answers")
    accs = []
    for variety, right in SIB_TOP30:
        counts = Counter(detect(text) for text in by_lang.get(variety, ()))
        total = sum(counts.values())
        if not total:
            continue
        acc = counts[right] / total
        if variety != "zho_Hant":
            accs.append(acc)
        top = ", ".join(f"{code} {count}" for code, count in counts.most_common(3))
        print(f"  {variety:<9} -> {right:<5} accuracy {acc:.3f}  und {counts['und'] / total:.3f}  [{top}]")
    print(f"  mean over the 30: {statistics.mean(accs):.3f}; median {statistics.median(accs):.3f}")
    wrong = total = 0
    for variety, texts in by_lang.items():
        iso3 = variety.split("_")[0]
        for text in texts:
            found = analyse(text).language
            right = _iso1(iso3, variety)
            total += 1
            wrong += found not in ("und", right)
    print(f"  all {len(by_lang)} varieties: {wrong / total:.3f} of sentences get a label other than their "
          f"language or und ({wrong}/{total}; includes close relatives such as Malay read as Indonesian)")


def _iso1(iso3: str, variety: str) -> str:
    """The code detect_language would return for an ISO 639-3 variety (macrolanguage members mapped)."""
    special = {"zho_Hans": "zh-cn", "zho_Hant": "zh-tw", "yue_Hant": "zh-tw", "arb": "ar", "arz": "ar",
               "ary": "ar", "acm": "ar", "acq": "ar", "aeb": "ar", "ajp": "ar", "apc": "ar", "ars": "ar",
               "pes": "fa", "prs": "fa", "swh": "sw", "zsm": "ms", "nob": "no", "nno": "no", "lvs": "lv",
               "khk": "mn", "npi": "ne", "als": "sq", "azj": "az", "uzn": "uz", "gaz": "om", "plt": "mg",
               "ory": "or", "pbt": "ps", "kmr": "ku", "ckb": "ku", "ydd": "yi", "quy": "qu", "ayr": "ay",
               "fuv": "ff", "knc": "kr", "twi": "tw", "tgl": "tl"}
    if variety in special:
        return special[variety]
    if iso3 in special:
        return special[iso3]
    import pycountry
    record = pycountry.languages.get(alpha_3=iso3)
    return getattr(record, "alpha_2", "?") if record else "?"


def timing(rows: list[dict], repeat: int) -> None:
    """Median wall and CPU milliseconds per article over `repeat` runs."""
    texts = [article_text(row) for row in rows]
    detect_language(texts[0])  # load the profiles outside the timing
    walls, cpus = [], []
    for _ in range(repeat):
        per = []
        cpu0 = time.process_time()
        for text in texts:
            t0 = time.perf_counter()
            detect_language(text)
            per.append(time.perf_counter() - t0)
        cpus.append((time.process_time() - cpu0) / len(texts))
        walls.append(statistics.median(per))
    print(f"\nSpeed on {len(texts)} MasakhaNEWS articles: median {statistics.median(walls) * 1000:.3f} ms/article "
          f"(runs: {', '.join(f'{w * 1000:.3f}' for w in walls)}); mean CPU "
          f"{statistics.median(cpus) * 1000:.3f} ms/article")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="?", default=str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", action="store_true", help="also run plain langdetect (slow)")
    args = parser.parse_args(argv)
    base = Path(args.corpora) / "multilingual"
    masakhane_path, sib_path = base / "masakhanews-dev.jsonl.gz", base / "sib200-train-dev.jsonl.gz"
    if not masakhane_path.exists():
        print(f"no corpus at {masakhane_path}", file=sys.stderr)
        return 2
    news = read_jsonl(masakhane_path)
    print_masakhane(masakhane(news, detect_language), "detect_language")
    if args.baseline:
        print_masakhane(masakhane(news, langdetect_baseline), "langdetect baseline")
    if sib_path.exists():
        sib(read_jsonl(sib_path), detect_language)
    timing(news, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
