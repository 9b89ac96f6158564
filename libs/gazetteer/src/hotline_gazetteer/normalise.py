"""Text normalisation: comparable keys for Thai and English place names, and a query cut into hinted units."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Level = Literal["tambon", "amphoe", "province"]
Script = Literal["th", "en", "num"]

# Tone marks, thanthakhat and maitaikhu: the marks most often missed or misplaced when typing fast.
_TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"
_DROP_FROM_THAI = str.maketrans("", "", " .-ฯ\u200b\u200c\u200d\ufeff")
_LOOSE_THAI = str.maketrans("", "", _TONE_MARKS)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

# Romanisation variants of one Thai word; "Mueang" is spelled at least four ways in the wild.
_EN_WORDS = {"muang": "mueang", "meuang": "mueang", "mueng": "mueang", "muaeng": "mueang", "mung": "mueang"}
_EN_ASPIRATED = re.compile(r"([kptc])h")
_EN_DOUBLE = re.compile(r"([a-z])\1+")

# Words that say which level a name is at. Thai puts them before the name ("ต.สันกลาง"), often without a space.
PLACE_MARKERS: tuple[tuple[str, Level], ...] = tuple(sorted([
    ("จังหวัด", "province"), ("จ.", "province"), ("อบจ.", "province"),
    ("กิ่งอำเภอ", "amphoe"), ("อำเภอ", "amphoe"), ("เขต", "amphoe"), ("อ.", "amphoe"),
    ("ตำบล", "tambon"), ("แขวง", "tambon"), ("ต.", "tambon"), ("อบต.", "tambon"), ("ทต.", "tambon"),
    ("เทศบาลตำบล", "tambon"),
], key=lambda m: -len(m[0])))
_SINGLE_LETTER_MARKERS: dict[str, Level] = {"ต": "tambon", "อ": "amphoe", "จ": "province"}
# Municipality words carry no level of their own ("เทศบาลนครเชียงราย" names a town): they only separate.
_SEPARATOR_WORDS = ("เทศบาลเมือง", "เทศบาลนคร", "เทศบาล")
# English level words are dropped: "Phan District" and "Amphoe Phan" put them on either side of the name.
_EN_MARKERS = frozenset({"tambon", "khwaeng", "kwaeng", "amphoe", "amphur", "ampur", "khet", "district",
                         "subdistrict", "sub", "province", "changwat", "t", "a", "ch"})

# Address noise (address mode only), recognised at the start of a word. The first kind takes the number that
# follows (house, village, floor), the second the name that follows (road, lane, housing estate).
_NOISE_TAKES_NUMBER = ("บ้านเลขที่", "เลขที่", "หมู่ที่", "หมู่", "ม.", "ชั้น", "ห้อง", "เลข")
_NOISE_TAKES_WORD = ("หมู่บ้าน", "ถนน", "ถ.", "ซอย", "ซ.", "ตรอก", "อาคาร", "คอนโด", "หอพัก")
_Noise = Literal["number", "word", "separator"]
_NOISE: tuple[tuple[str, _Noise], ...] = tuple(sorted(
    [(w, "number") for w in _NOISE_TAKES_NUMBER] + [(w, "word") for w in _NOISE_TAKES_WORD],
    key=lambda m: -len(m[0])))
_VILLAGE = "บ้าน"

_SEPARATORS = re.compile(r"[,;:()\[\]{}\"'|!?*+=<>_“”‘’]+")
_RUNS = re.compile(r"([\u0e00-\u0e7f.\-]+)|([A-Za-z][A-Za-z.\-']*)|([0-9][0-9/\-]*)")
_BANGKOK_SHORT = re.compile(r"กทม\.?|กรุงเทพฯ|กรุงเทพ(?!มหานคร)")


def clean(text: str) -> str:
    """NFC, no zero-width characters, Arabic digits, and the two Thai spellings typed in two keystrokes fixed."""
    text = unicodedata.normalize("NFC", text).translate(_THAI_DIGITS)
    text = _ZERO_WIDTH.sub("", text)
    return text.replace("\u0e4d\u0e32", "\u0e33").replace("เเ", "แ")  # ํ+า → ำ, เ+เ → แ


def thai_key(text: str) -> str:
    """The exact-comparison key of a Thai name: cleaned, without spaces, dots, hyphens or ฯ."""
    return clean(text).translate(_DROP_FROM_THAI)


def thai_loose(key: str) -> str:
    """A `thai_key` without tone marks: สันกลาง, สันกล่าง and สั้นกลาง meet here."""
    return key.translate(_LOOSE_THAI)


def english_words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", text).lower())
    return [_EN_WORDS.get(w, w) for w in words]


def english_key(text: str) -> str:
    """The exact-comparison key of an English name: lower case, no spaces or hyphens ("Phang-Nga" = "phangnga")."""
    return "".join(english_words(text))


def english_loose(key: str) -> str:
    """A rough sound-alike of an `english_key`: kh/ph/th/ch → k/p/t/c, ue → u, doubled letters once."""
    return _EN_DOUBLE.sub(r"\1", _EN_ASPIRATED.sub(r"\1", key).replace("ue", "u"))


def loose_key(key: str) -> str:
    return thai_loose(key) if key and "\u0e00" <= key[0] <= "\u0e7f" else english_loose(key)


@dataclass(frozen=True, slots=True)
class Unit:
    """One word of a query: a Thai or English name (or part of one), or a number; `hint` is the level a marker gave."""

    script: Script
    key: str  # thai_key / english_key / digits
    hint: Level | None = None

    @property
    def loose(self) -> str:
        return self.key if self.script == "num" else loose_key(self.key)


class _Scanner:
    """Cuts a cleaned text into units, carrying a marker's level to the word after it (even across a space)."""

    def __init__(self, address: bool, protected: frozenset[str]) -> None:
        self.address = address
        self.protected = protected
        self.dotted = [name for name in protected if "." in name]
        self.units: list[Unit] = []
        self.hint: Level | None = None
        self.drop: Literal["number", "word", "village"] | None = None  # what the last noise word takes

    def token(self, token: str) -> None:
        word_start = 0
        i = 0
        while i < len(token):
            dotted = next((n for n in self.dotted if token.startswith(n, i)), None)
            if dotted is not None:  # จ.ป.ร. is a tambon, not จ. + ป.ร.
                i += len(dotted)
                continue
            found = self._marker_at(token, i, word_start)
            if found is None:
                i += 1
                continue
            marker, kind = found
            self.word(token[word_start:i])
            match kind:
                case "number" | "word":
                    self.drop, self.hint = kind, None
                case "separator":
                    pass
                case _:
                    self.drop, self.hint = None, kind
            i += len(marker)
            word_start = i
        self.word(token[word_start:])

    def _marker_at(self, token: str, i: int, word_start: int) -> tuple[str, Level | _Noise] | None:
        rest = token[i:]
        for marker, level in PLACE_MARKERS:
            if rest.startswith(marker) and not self._inside_a_name(token[word_start:], i - word_start):
                return marker, level
        for word in _SEPARATOR_WORDS:
            if rest.startswith(word):
                return word, "separator"
        if self.address and i == word_start and self.hint is None:
            for marker, takes in _NOISE:
                if rest.startswith(marker):
                    return marker, takes
        if len(rest) >= 2 and rest[1] == "." and "\u0e01" <= rest[0] <= "\u0e2e":
            return rest[:2], "separator"  # some other abbreviation (รพ. ร.ร. …)
        return None

    def _inside_a_name(self, word: str, offset: int) -> bool:
        """A marker word in the middle of a real name: หลักเขต, สนามชัยเขต, สามตำบล."""
        return offset > 0 and any(word.startswith(name) and len(name) > offset for name in self.protected)

    def word(self, text: str) -> None:
        for m in _RUNS.finditer(text):
            thai, latin, digits = m.groups()
            if digits is not None:
                self._number(digits)
            elif thai is not None:
                self._thai(thai)
            elif latin is not None:
                self._latin(latin)

    def _number(self, digits: str) -> None:
        dropping = self.drop
        self.drop = "village" if dropping == "number" else None
        if dropping in ("number", "word") or not digits.isdigit():
            return  # a house or village number (12, 12/3, 12-14)
        self.units.append(Unit("num", digits, self.hint))
        self.hint = None

    def _thai(self, run: str) -> None:
        key = thai_key(run)
        if not key:
            return
        if key in _SINGLE_LETTER_MARKERS and self.hint is None:
            self.hint = _SINGLE_LETTER_MARKERS[key]
            return
        dropping, self.drop = self.drop, None
        if dropping == "word" or (dropping == "village" and key.startswith(_VILLAGE)):
            return
        if len(key) == 1:
            return
        self.units.append(Unit("th", key, self.hint))
        self.hint = None

    def _latin(self, run: str) -> None:
        dropping, self.drop = self.drop, None
        if dropping == "word":
            return
        for word in english_words(run):
            if word in _EN_MARKERS:
                continue
            self.units.append(Unit("en", word, self.hint))
            self.hint = None


def parse(text: str, *, address: bool = False, protected: frozenset[str] = frozenset()) -> list[Unit]:
    """Cut a query into units. `address` also drops house numbers, หมู่/ม., ถนน/ซอย and village (บ้าน…) names.

    `protected` are the Thai names (`clean`ed) that contain a marker word or a dot, so that "ตำบลหลักเขต" keeps
    หลักเขต and "ต.จ.ป.ร." is one tambon.
    """
    text = _BANGKOK_SHORT.sub(" กรุงเทพมหานคร ", clean(text))
    scanner = _Scanner(address, protected)
    for token in _SEPARATORS.sub(" ", text).split():
        scanner.token(token)
    return scanner.units
