"""People an article names: rules over capitalised word runs, first/last-name lists, title and verb cues, and
in-article coreference (a surname or first name alone joins the full name seen in the same article).

Data: index/data/first_names.txt and last_names.txt (Faker's MIT-licensed per-locale lists), common_words.txt
(SCOWL lower-case words). See index/data/SOURCES.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from index.tokens import Tokens, Unit

DATA = Path(__file__).parent / "data"

# Words that introduce a name ("President Xi Jinping", "spokesman John Smith"); compared in lower case.
TITLES = frozenset("""
mr mrs ms miss mme mlle dr prof professor sir dame lord lady baroness baron earl duke duchess count countess
president vice-president premier chancellor minister secretary senator sen rep representative congressman
congresswoman governor gov mayor king queen prince princess emperor empress pope cardinal archbishop bishop
general gen col colonel lt lieutenant capt captain admiral adm commander cmdr sergeant sgt corporal private marshal
judge justice rev reverend father brother sister sheikh sheik emir sultan ayatollah imam rabbi mullah
chairman chairwoman chairperson ceo cfo ambassador envoy commissioner director spokesman spokeswoman
spokesperson coach manager striker forward midfielder defender goalkeeper keeper skipper deputy leader
economist analyst lawyer attorney prosecutor dealer trader actor actress singer author writer counsel adviser
advisor aide candidate challenger champion teammate veteran substitute batsman bowler opener all-rounder
rider driver jockey trainer player winger fullback quarterback pitcher midfield coach-elect president-elect
frontman guitarist director-general secretary-general chief-executive superintendent inspector detective
officer constable correspondent editor publisher founder owner investor billionaire tycoon dissident rebel
cleric pastor priest nun monk bishop doctor nurse scientist researcher professor historian pm
left-back right-back centre-back center-back full-back wing flanker fly-half scrum-half hooker prop lock
playmaker sweeper widow widower wife husband son daughter mother-in-law uncle aunt cousin nephew niece
grandson granddaughter friend colleague partner compatriot countryman countrywoman opponent rival seed winner
runner-up holder c b lbw
m mme mlle monsieur madame président présidente ministre premier-ministre député sénateur maire général juge
señor señora sr sra presidente ministro ministra primer diputado senador alcalde general juez
herr frau präsident präsidentin kanzler kanzlerin bundeskanzler bundeskanzlerin minister ministerin
signor signora sindaco giudice senhor senhora prefeito
господин госпожа президент премьер-министр министр глава
""".split())
# Titles that only count written with a capital (as a role word, "president" alone does not introduce a name).
REPORTING = frozenset("""said says told added explained noted warned stated asked argued insisted denied admitted
announced declared wrote commented replied recalled acknowledged confirmed estimated predicted urged reported
according""".split())
# A run containing one of these names an organisation, place or event, not a person.
ORG_WORDS = frozenset("""
inc corp corporation co ltd plc llc ag sa nv bv gmbh spa srl ab asa oyj kk bhd pty limited group bank banks
party union council committee ministry department agency association federation league club clubs university
college institute school schools airlines airline airways motors motor times post news journal exchange fund funds
board court commission company holdings holding international national foundation securities capital partners
trust systems technologies technology industries industrial services energy oil gas petroleum mining steel
chemical chemicals electric electronics financial finance insurance press network television radio tv fc afc
united city county state states province republic kingdom empire church hospital airport stadium park street
avenue road river mountains mountain island islands lake sea ocean gulf bay valley square hall palace house
centre center museum hotel cup open championship championships games olympics olympic series tournament
prix stakes award prize festival army navy force forces police guard front movement alliance organisation
organization office assembly parliament congress senate government administration cabinet treasury reserve
authority service communications pharmaceuticals pharmaceutical foods food brands resources properties realty
investments investment management markets market stores corp. inc. co. ltd. reuters index exchange
bourse agency report review gazette herald telegraph tribune daily weekly magazine channel cable railway
railways rail shipping lines port newsroom desk power light telephone telecom air harbour harbor institute
laboratories labs software computer computers bros loch
systems data semiconductor motors automotive aerospace defence defense
""".split())
NON_PERSON = frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december feb apr jun jul aug sep sept oct nov dec
tamil tamils taleban taliban islamist islamists mujahideen sikh sikhs hindus serb serbs croat croats eu un
god allah christ jesus christmas easter ramadan internet web islam muslim muslims christian christians jewish
jew jews catholic catholics protestant sunni shi'ite shiite kurd kurds kurdish arab arabs arabic european
europeans african africans asian asians western eastern northern southern communist communists socialist
socialists democrat democrats democratic republican republicans conservative conservatives labour labor
liberal liberals tory tories nazi nazis marxist english hindu buddhist europe asia africa america oceania
antarctica arctic atlantic pacific mediterranean caribbean baltic balkans middle east west north south
the a an of and or in on at to for by with from but if as so not no this that these those it its he she they we
i you his her their our my your who what when where why how there here then than les des los las die gli
""".split())
PARTICLES = frozenset("van von de der den da di du del della dos das do ter ten bin ibn al el le la st st. mac"
                      .split())
# Titles strong enough to make a single unknown word a person ("Mr Kowalczyk"); role nouns ("investor", "rival")
# also precede company names, so after them a single word must be a known first or last name.
STRONG_TITLES = frozenset("""
mr mrs ms miss mme mlle dr prof professor sir dame lord lady baroness baron president premier chancellor minister
secretary senator sen rep representative congressman congresswoman governor gov mayor king queen prince princess
emperor pope cardinal archbishop bishop general gen col colonel lt lieutenant capt captain admiral adm commander
sergeant sgt judge justice rev reverend father sheikh sheik emir sultan ayatollah imam rabbi mullah ambassador
envoy spokesman spokeswoman spokesperson coach striker midfielder defender goalkeeper batsman bowler inspector
detective pm widow widower wife husband son daughter c b lbw
m mme monsieur madame président présidente ministre premier-ministre señor señora sr sra presidente ministro
ministra
herr frau präsident präsidentin kanzler kanzlerin bundeskanzler bundeskanzlerin ministerin signor signora senhor
senhora господин госпожа президент премьер-министр министр
""".split())
_AFTER = re.compile(r"\s*(,)?\s*([^\W\d_]+)")
# After a name in results and scorer lists: "Zitelli 80th", "Eriksson ( Sweden )".
_ORDINAL_AFTER = re.compile(r"[ \t]*\d+(?:st|nd|rd|th)\b")
_BRACKET_AFTER = re.compile(r"[ \t]*\([ \t]*([^()\n]{2,30}?)[ \t]*\)")
_PARTICLE_GAP = re.compile(r"\s+(?:(?:" + "|".join(re.escape(p) for p in sorted(PARTICLES)) + r")\s+){1,2}")


def _particle_gap(gap: str) -> bool:
    return _PARTICLE_GAP.fullmatch(gap) is not None


def _load_names(path: Path) -> frozenset[str]:
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            out.add(line.split("\t", 1)[0].lower())
    return frozenset(out)


def load_common_words(path: Path = DATA / "common_words.txt") -> frozenset[str]:
    return frozenset(w for w in path.read_text(encoding="utf-8").split("\n") if w and not w.startswith("#"))


@dataclass
class _Found:
    """A person while an article is read: display name, lower-case name parts, mention spans."""

    name: str
    units: list[str]
    mentions: list[tuple[int, int]] = field(default_factory=list)


class PeopleFinder:
    """Tables built once; `find(tokens)` returns the people of one article with their mention spans."""

    def __init__(self, common_words: frozenset[str], place_words: frozenset[str],
                 place_phrases: frozenset[str] = frozenset(),
                 first_names: Optional[frozenset[str]] = None, last_names: Optional[frozenset[str]] = None):
        self.common = common_words
        self.places = place_words
        self.place_phrases = place_phrases
        self.first = first_names if first_names is not None else _load_names(DATA / "first_names.txt")
        self.last = last_names if last_names is not None else _load_names(DATA / "last_names.txt")

    # ---- one article -----------------------------------------------------------------------------------------
    def find(self, tokens: Tokens, language: str = "en") -> list[_Found]:
        """People in the text: full names first, then single names joined to them or kept on a cue.

        The word lists are English: in other languages a run of unknown capitalised words needs a first name or a
        cue to be a person ("Assemblée Nationale" is not one), and "M." is Monsieur, not an initial."""
        english = language[:2] in ("en", "", "un")   # "und": undetermined, read as English
        units = tokens.units
        fulls: list[list[Unit]] = []
        rejected: list[list[Unit]] = []
        cue_of: dict[int, bool] = {}
        places, first = self.places, self.first
        for chain in self._chains(tokens, units):
            if len(chain) == 1:
                low = chain[0].low
                if not (low in NON_PERSON or low in ORG_WORDS or chain[0].text.isupper() or (
                        low in places and low not in first)):
                    cue_of[chain[0].i] = None    # a possible lone name; its cue is looked up if needed
                continue
            for seg, cue in self._segments(tokens, chain, english):
                if len(seg) >= 2:
                    (fulls if self._is_full_name(tokens, seg, cue, english) else rejected).append(seg)
                else:
                    cue_of[seg[0].i] = cue
        return self._resolve(tokens, units, fulls, rejected, cue_of)

    def _chains(self, tokens: Tokens, units: list[Unit]):
        """Runs of adjacent capitalised units (lower-case particles allowed between), within a paragraph and never
        on a line in capitals."""
        text = tokens.text
        chain: list[Unit] = []
        for u in units:
            if u.caps:
                if chain:
                    yield chain
                chain = []
                continue
            if chain:
                end = chain[-1].end
                if u.start - end > 14:
                    yield chain
                    chain = [u]
                    continue
                gap = text[end:u.start]
                if gap.isspace() and gap.count("\n") < 2 or (
                        3 < len(gap) < 14 and gap[0] == " " and gap[-1] == " " and _particle_gap(gap)):
                    chain.append(u)
                    continue
                yield chain
            chain = [u]
        if chain:
            yield chain

    def _segments(self, tokens: Tokens, chain: list[Unit], english: bool = True):
        """Split a run at titles (what follows has a cue), at organisation words and acronyms (what precedes is
        the organisation's name), then trim words that are no name."""
        cue = tokens.prev_word(chain[0].i) in TITLES
        segs: list[tuple[list[Unit], bool]] = []
        current: list[Unit] = []
        for u in chain:
            low = u.low.rstrip(".")
            if low in TITLES and len(low) > 1 or (not english and u.low == "m."):
                if current:
                    segs.append((current, cue))
                current, cue = [], True
            elif (low in ORG_WORDS and not (cue and not current)) or (
                    len(u.text) > 2 and u.text.isupper() and "." not in u.text):
                current, cue = [], False    # but "President Park" is a name: a title's first word is kept
            else:
                current.append(u)
        if current:
            segs.append((current, cue))
        for seg, cue in segs:
            seg = self._trim(tokens, seg, cue)
            if seg:
                yield seg, cue

    def _trim(self, tokens: Tokens, seg: list[Unit], cue: bool) -> list[Unit]:
        """Drop leading words that start a sentence or are plainly no name ("The", "Japanese", "Tuesday")."""
        first, common = self.first, self.common
        if len(seg) >= 2:
            for k in (3, 2):   # "New York Yankees": a place's name opening the run is no part of a person's
                if len(seg) >= k and " ".join(u.low for u in seg[:k]) in self.place_phrases:
                    seg = seg[k:]
                    break
        while seg:
            low = seg[0].low
            if low in NON_PERSON or low in PARTICLES:
                seg = seg[1:]
                continue
            if self._is_place(low) and not (low in first and len(seg) > 1 and not self._is_place(seg[1].low)):
                seg = seg[1:]
                continue
            if not cue and len(seg) > 1 and self._common(low) and (
                    low not in first or tokens.initial(seg[0].i) and seg[1].low in common):
                seg = seg[1:]     # "Shares", or "Will" opening a sentence before another dictionary word
                continue
            break
        while seg and (seg[-1].low in NON_PERSON or len(seg) > 1 and seg[-1].low not in self.last
                       and self._is_place(seg[-1].low)):
            seg = seg[:-1]     # "Tobias Engström Sweden" (a keyword line), but "Michael Jordan" stays
        if len(seg) >= 2 and " ".join(u.low for u in seg[-2:]) in self.place_phrases:
            return []
        return seg if len(seg) <= 4 else []

    def _common(self, low: str) -> bool:
        """A dictionary word ("Fourth-placed" counts when each part is one)."""
        if low in self.common:
            return True
        return "-" in low and all(p in self.common for p in low.split("-"))

    def _plural_word(self, low: str) -> bool:
        """Team and group names: "Cardinals", "Braves", "Yankees"."""
        return len(low) > 3 and low[-1] == "s" and low not in self.last and (
            low[:-1] in self.common or low[:-2] in self.common and low.endswith("es"))

    def _is_place(self, low: str) -> bool:
        if low in self.places:
            return True
        if "-" in low:
            return any(p in self.places for p in low.split("-"))
        return False

    def _is_full_name(self, tokens: Tokens, seg: list[Unit], cue: bool, english: bool = True) -> bool:
        """Two to four units: a person when a cue, a first name or the name lists say so."""
        if cue:
            return True
        lows = [u.low for u in seg]
        first = lows[0]
        if any(self._is_place(w) for w in lows):
            # "Sydney Bulldogs", "Houston Astros" are teams; "Michael Jordan", "Paris Hilton" are people
            plain_first = first in self.first and not self._is_place(first) and first not in self.common
            if not (plain_first or first in self.first and lows[-1] in self.last and not self._is_place(lows[-1])):
                return False
        if len(first) == 2 and first.endswith("."):
            return True
        if any(self._plural_word(w) for w in lows[1:]):
            return False
        common = sum(1 for w in lows if w in self.common)
        if first in self.first and (first not in self.common or common < len(lows)):
            return True
        if self._said_after(tokens, seg[-1].end) or self._said_before(tokens, seg[0].i):
            return common == 0 or lows[-1] in self.last and common < len(lows)
        if self._context_cue(tokens, seg[-1]):
            return first in self.first or common < len(lows)
        if not english or common or any(len(w) < 3 for w in lows) or self._in_table(tokens, seg):
            return False
        return True

    @staticmethod
    def _in_table(tokens: Tokens, seg: list[Unit]) -> bool:
        """Results tables put numbers right beside team names ("Cologne 0 Hansa Rostock 2")."""
        text = tokens.text
        after = text[seg[-1].end:seg[-1].end + 3].lstrip(" \t")
        before = text[max(0, seg[0].start - 3):seg[0].start].rstrip(" \t")
        return bool(after[:1].isdigit() or before[-1:].isdigit())

    @staticmethod
    def _said_after(tokens: Tokens, end: int) -> bool:
        """A reporting verb right after the name ("Lee said", "Lee, who")."""
        m = _AFTER.match(tokens.text, end)
        return bool(m) and (m.group(2).lower() in REPORTING or (m.group(1) and m.group(2).lower() == "who"))

    @staticmethod
    def _said_before(tokens: Tokens, i: int) -> bool:
        return tokens.prev_word(i) in ("said", "says", "told", "by", "according")

    def _context_cue(self, tokens: Tokens, u: Unit) -> bool:
        """Results and scorer lists: "Zitelli 80th", "Eriksson ( Sweden )"."""
        text, e = tokens.text, u.end
        if _ORDINAL_AFTER.match(text, e):
            return True
        m = _BRACKET_AFTER.match(text, e)
        if m:
            inner = m.group(1).lower()
            return inner in self.places or inner in self.place_phrases or inner in ("u.s.", "u.s.a.")
        return False

    def _resolve(self, tokens: Tokens, units: list[Unit], fulls, rejected, cue_of) -> list[_Found]:
        """Join full names, link single names to them, keep cued single names; collect every mention."""
        order: list[_Found] = []
        by_key: dict[tuple, _Found] = {}
        covered: set[int] = set()
        for seg in fulls:
            self._add_full(seg, order, by_key, covered)
        by_unit = self._unit_index(order)
        for seg in rejected:
            # "Grant Flower" next to "Andy Flower": a first name before a known surname is a person too
            if seg[0].low in self.first and any(u.low in by_unit for u in seg[1:]):
                self._add_full(seg, order, by_key, covered)
        by_unit = self._unit_index(order)
        taken = {m for p in order for m in p.mentions}
        lone: dict[str, _Found] = {}
        last: Optional[tuple[_Found, int]] = None     # the mention just added, to join "WASIM AKRAM"
        # only units that may be a mention; a unit left out between two kept ones breaks their joining (its text
        # is in the gap), so nothing is lost by skipping it
        for u in [u for u in units if u.low in by_unit or u.i in cue_of]:
            i, low = u.i, u.low
            if i in covered:
                last = None
                continue
            s, e = u.start, u.end
            owners = by_unit.get(low)
            if owners and u.caps and self._is_place(low):
                owners = None   # "SYDNEY 1996-08-25" in a capitals line is the city
            if owners and low in self.common and not u.caps and tokens.initial(i) and not (
                    self._cue(tokens, cue_of, i) or self._said_after(tokens, e)):
                last = None
                continue     # "Lee" or "Rose" opening a sentence is a name only with a cue
            if owners:
                p = _nearest(owners, s)
                if last and last[0] is p and _joinable(tokens.text[p.mentions[last[1]][1]:s]):
                    p.mentions[last[1]] = (p.mentions[last[1]][0], e)
                elif (s, e) not in taken:
                    p.mentions.append((s, e))
                    last = (p, len(p.mentions) - 1)
                continue
            last = None
            if u.caps or i not in cue_of:
                continue
            if self._lone_person(tokens, u, cue_of):
                p = lone.get(low)
                if p is None:
                    p = lone[low] = _Found(name=u.text, units=[low])
                    order.append(p)
                p.mentions.append((s, e))
        if lone:
            # the same single name elsewhere in the article, without its cue ("met Smith ... Smith said")
            for u in units:
                p = lone.get(u.low)
                if p is not None and u.i not in covered and (u.start, u.end) not in p.mentions and not (
                        u.low in self.common and tokens.initial(u.i)):
                    p.mentions.append((u.start, u.end))
        for p in order:
            p.mentions.sort()
        return order

    @staticmethod
    def _add_full(seg: list[Unit], order: list[_Found], by_key: dict, covered: set[int]) -> None:
        names = [u.low for u in seg]
        key = tuple(n.replace("-", " ") for n in names)
        found = by_key.get(key)
        if found is None:
            # "Jae Myung" inside "Lee Jae Myung": a full name within a longer one is the same person
            found = next((p for p in order if _contains(p.units, names) or _contains(names, p.units)), None)
            if found is None:
                found = _Found(name=" ".join(u.text for u in seg), units=names)
                order.append(found)
            elif len(names) > len(found.units):
                found.units, found.name = names, " ".join(u.text for u in seg)
            by_key[key] = found
        found.mentions.append((seg[0].start, seg[-1].end))
        covered.update(u.i for u in seg)

    def _unit_index(self, order: list[_Found]) -> dict[str, list[_Found]]:
        """Each part of each full name -> the people it may stand for (a place name only as a surname)."""
        by_unit: dict[str, list[_Found]] = {}
        for p in order:
            for n, part in enumerate(p.units):
                for piece in {part, *part.split("-")}:
                    if piece in PARTICLES or len(piece) < 2 or piece in NON_PERSON or piece[-1] == ".":
                        continue
                    if self._is_place(piece) and n != len(p.units) - 1:
                        continue
                    lst = by_unit.setdefault(piece, [])
                    if p not in lst:
                        lst.append(p)
        return by_unit

    @staticmethod
    def _cue(tokens: Tokens, cue_of: dict[int, Optional[bool]], i: int) -> bool:
        """Whether a title precedes single word i (computed on first use)."""
        cue = cue_of.get(i)
        if cue is None and i in cue_of:
            cue = cue_of[i] = tokens.prev_word(i) in TITLES
        return bool(cue)

    def _lone_person(self, tokens: Tokens, u: Unit, cue_of: dict[int, Optional[bool]]) -> bool:
        """A single name with no full name in the article: a person on a title or a context cue, or a known
        surname that speaks."""
        low = u.low
        if low in NON_PERSON or self._is_place(low) or low.rstrip(".") in ORG_WORDS or len(low) < 2:
            return False
        if u.text.isupper():
            return False    # an acronym: "IBM said"
        known = low in self.last or low in self.first
        common = low in self.common
        if common and not known:
            return False    # "Shares", "Analysts": no cue makes a dictionary word a person
        if self._cue(tokens, cue_of, u.i):
            return known or tokens.prev_word(u.i) in STRONG_TITLES
        if self._context_cue(tokens, u):
            return not (low in self.common and low not in self.last)
        said = self._said_after(tokens, u.end) or self._said_before(tokens, u.i)
        return said and low in self.last


def _joinable(gap: str) -> bool:
    return gap.isspace() and gap.count("\n") < 2


def _contains(longer: list[str], shorter: list[str]) -> bool:
    """True if `shorter` is a contiguous run of `longer` (and strictly shorter)."""
    if len(shorter) >= len(longer):
        return False
    k = len(shorter)
    return any(longer[i:i + k] == shorter for i in range(len(longer) - k + 1))


def _nearest(owners: list[_Found], offset: int) -> _Found:
    """Of several people sharing a name part, the one named last before this offset (else the first)."""
    best = None
    for p in owners:
        before = [s for s, _ in p.mentions if s <= offset]
        if before and (best is None or max(before) > best[0]):
            best = (max(before), p)
    return best[1] if best else owners[0]
