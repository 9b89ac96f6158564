"""How urgent a case is: the operator's urgency, the category's baseline and Thai danger words in the description.

Thai is written without spaces between words, so danger words are matched as substrings of the normalised text
(NFC, no zero-width characters, no whitespace at all — typists put spaces in odd places), in one Aho-Corasick
pass. Limits, by design kept simple and tested:
- a word directly preceded by a negation (ไม่ / ไม่ได้ / ไม่มี / ไม่เคย / ไม่ได้ถูก / มิได้ …, with no space between
  them) is ignored, and said so in the reasons; a negation separated by a space is not trusted ("ทนไม่ได้ ถูกตี"),
  nor are negations further away ("ไม่รู้ว่าถูกทำร้าย" is still a danger word), double negatives or irony;
- a word followed by one of its listed exceptions is not a danger word (ลูกหาย|ป่วย = the child got better,
  ยาฆ่า|แมลง = insecticide), and a word inside a longer lexicon phrase counts as that phrase (ขู่ทำร้าย = a threat,
  P2, not an assault) — other homographs and typos the lexicon does not list are missed or mismatched;
- no English or transliterated words: operators write the description in Thai.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

import ahocorasick

from hotline_common.events import Category, Priority, TargetGroup

P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
RANK = {P1: 1, P2: 2, P3: 3, P4: 4}


class DangerWord(NamedTuple):
    term: str  # normalised Thai, as matched
    gloss: str  # English
    unless_followed_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DangerGroup:
    name: str
    priority: Priority
    gloss: str
    words: tuple[DangerWord, ...]


W = DangerWord
# หาย is also "to get better" and the start of หายใจ (to breathe).
_GOT_BETTER = ("ใจ", "ป่วย", "ดี", "ไข้", "เจ็บ", "ปวด", "จากอาการ", "จากโรค", "โกรธ", "เหนื่อย", "ห่วง", "ขาด")
# ฆ่า also kills germs, pests, time, and starts ฆ่าตัวตาย (matched on its own as suicide).
_NOT_A_PERSON = ("เชื้อ", "แมลง", "หญ้า", "เวลา", "ยุง", "หนู", "ไก่", "หมู", "ปลา", "ตัว")
# ลูก starts many things that are not a child: meatballs, sweets, balloons, customers, balls, animals' young.
_NOT_A_CHILD = ("ชิ้น", "อม", "กวาด", "โป่ง", "ค้า", "บอล", "เต๋า", "ปัด", "ไก่", "หมู", "หมา", "แมว", "ปลา", "วัว",
                "เทนนิส", "กอล์ฟ", "ขนไก่", "ปิงปอง", "ประคบ")
# ถูกตี/โดนตี: bounced back, rejected, priced, interpreted.
_NOT_HIT = ("กลับ", "ตก", "ราคา", "ความ")

LEXICON: tuple[DangerGroup, ...] = (
    DangerGroup("violence", P1, "violence in progress or just done", (
        W("ทำร้าย", "assault, harming"), W("ทำร้ายร่างกาย", "bodily assault"), W("ถูกทำร้าย", "being assaulted"),
        W("ทุบตี", "beating"), W("ตบตี", "slapping and hitting"), W("ตบหน้า", "slapping the face"),
        W("ถูกตบ", "being slapped", ("ตา",)), W("โดนตบ", "being slapped (colloquial)", ("ตา",)),
        W("ถูกตี", "being hit", _NOT_HIT), W("โดนตี", "being hit (colloquial)", _NOT_HIT),
        W("ตีลูก", "hitting a child", _NOT_A_CHILD), W("ตีเมีย", "hitting his wife"),
        W("ตีภรรยา", "hitting his wife (formal)"), W("ตีแม่", "hitting mother"), W("ตีหัว", "hitting on the head"),
        W("ทุบหัว", "striking the head"), W("ถูกซ้อม", "being beaten up"), W("โดนซ้อม", "being beaten up (colloquial)"),
        W("รุมซ้อม", "beaten up by a group"), W("ซ้อมเมีย", "beating his wife"),
        W("ซ้อมลูก", "beating a child", _NOT_A_CHILD),
        W("ถูกต่อย", "being punched"), W("โดนต่อย", "being punched (colloquial)"), W("ต่อยหน้า", "punching the face"),
        W("ถูกเตะ", "being kicked"), W("โดนเตะ", "being kicked (colloquial)"), W("เตะท้อง", "kicking the belly"),
        W("ถูกกระทืบ", "being stomped on"), W("โดนกระทืบ", "being stomped on (colloquial)"),
        W("รุมกระทืบ", "stomped on by a group"), W("บีบคอ", "strangling"), W("รัดคอ", "choking"),
        W("เฆี่ยน", "whipping"), W("กระชากผม", "dragging by the hair"), W("ลากผม", "dragging by the hair"),
        W("จับหัวโขก", "smashing the head"), W("สาดน้ำกรด", "acid attack"), W("จุดไฟเผา", "setting on fire"),
        W("ราดน้ำมัน", "dousing with fuel"), W("จับกดน้ำ", "holding under water"),
    )),
    DangerGroup("weapon", P1, "a weapon", (
        W("อาวุธ", "weapon"), W("พกอาวุธ", "carrying a weapon"), W("มีมีด", "has a knife"),
        W("ถือมีด", "holding a knife"), W("เอามีด", "took a knife"), W("ใช้มีด", "using a knife"),
        W("มีดจ่อ", "knife held to someone"), W("มีดแทง", "stabbing with a knife"), W("ถูกแทง", "being stabbed"),
        W("โดนแทง", "being stabbed (colloquial)"), W("ไล่แทง", "chasing to stab"), W("ไล่ฟัน", "chasing with a blade"),
        W("ฟันด้วยมีด", "slashing with a knife"), W("มีปืน", "has a gun"), W("ถือปืน", "holding a gun"),
        W("พกปืน", "carrying a gun"), W("ควักปืน", "drew a gun"), W("เอาปืน", "took a gun"),
        W("ปืนจ่อ", "gun pointed at someone"), W("ยิงปืน", "firing a gun"), W("ถูกยิง", "being shot"),
        W("โดนยิง", "being shot (colloquial)"), W("ขู่ยิง", "threatening to shoot"), W("ไล่ยิง", "chasing and shooting"),
        W("ถือขวาน", "holding an axe"), W("ถือพร้า", "holding a machete"), W("ไม้หน้าสาม", "a club (plank)"),
    )),
    DangerGroup("threat_to_life", P1, "a threat to kill", (
        W("ขู่ฆ่า", "threatening to kill"), W("ขู่จะฆ่า", "threatening to kill"),
        W("จะฆ่า", "going to kill", _NOT_A_PERSON), W("ฆ่าให้ตาย", "kill (them) dead"),
        W("พยายามฆ่า", "attempted murder"), W("ถูกฆ่า", "being killed"), W("ฆ่าทิ้ง", "kill off"),
        W("ฆ่าลูก", "killing a child", _NOT_A_CHILD), W("ฆ่าเมีย", "killing his wife"),
        W("ฆ่ายกครัว", "killing the whole family"),
        W("เอาให้ตาย", "kill (colloquial)"), W("เอาถึงตาย", "to the death (colloquial)"),
        W("ขู่เอาชีวิต", "threatening someone's life"),
    )),
    DangerGroup("suicide", P1, "suicide or self-harm risk", (
        W("ฆ่าตัวตาย", "suicide"), W("ค่าตัวตาย", "suicide (common misspelling)"), W("ฆ่าตัวเอง", "killing oneself"),
        W("ขู่ฆ่าตัวตาย", "threatening suicide"), W("อยากตาย", "wants to die"), W("อยากจะตาย", "wants to die"),
        W("ไม่อยากอยู่แล้ว", "does not want to live any more"), W("ไม่อยากมีชีวิตอยู่", "does not want to live"),
        W("ไม่อยากอยู่บนโลกนี้", "does not want to be in this world"), W("คิดสั้น", "suicidal (euphemism)"),
        W("จบชีวิต", "end one's life"), W("ปลิดชีพ", "take one's life"), W("กระโดดตึก", "jump from a building"),
        W("โดดตึก", "jump from a building (colloquial)"), W("กระโดดสะพาน", "jump from a bridge"),
        W("โดดสะพาน", "jump from a bridge (colloquial)"), W("กระโดดน้ำตาย", "drown oneself"),
        W("กินยาตาย", "take pills to die"), W("กินยาฆ่าตัวตาย", "take pills to kill oneself"),
        W("กินยาเกินขนาด", "overdose"), W("กินยาฆ่าแมลง", "drank insecticide"), W("ดื่มยาฆ่าแมลง", "drank insecticide"),
        W("กินยาฆ่าหญ้า", "drank herbicide"), W("กินยาเบื่อหนู", "took rat poison"), W("ผูกคอ", "hanging oneself"),
        W("แขวนคอ", "hanging"), W("กรีดข้อมือ", "cutting wrists"), W("เชือดข้อมือ", "slashing wrists"),
        W("กรีดแขน", "cutting one's arm"), W("ทำร้ายตัวเอง", "self-harm"), W("ขู่ทำร้ายตัวเอง", "threatening self-harm"),
    )),
    DangerGroup("confinement", P1, "confinement", (
        W("ถูกขัง", "being locked up"), W("โดนขัง", "being locked up (colloquial)"), W("กักขัง", "confinement"),
        W("ขังไว้", "kept locked up"), W("จับขัง", "locked up"), W("ขังลูก", "locking up a child", _NOT_A_CHILD),
        W("ขังในห้อง", "locked in a room"), W("หน่วงเหนี่ยว", "unlawful detention"), W("ล่ามโซ่", "chained"),
        W("ถูกล่าม", "being chained"), W("ล่ามไว้", "kept chained"), W("ถูกมัด", "being tied up", ("จำ",)),
        W("จับมัด", "tied up"), W("มัดมือ", "hands tied", ("ชก",)), W("ล็อกห้อง", "locked in a room"),
        W("ล็อคห้อง", "locked in a room (spelling variant)"),
    )),
    DangerGroup("abduction", P1, "abduction or a missing child", (
        W("เด็กหาย", "missing child", _GOT_BETTER), W("ลูกหาย", "(my) child is missing", _GOT_BETTER),
        W("ลูกสาวหาย", "(my) daughter is missing", _GOT_BETTER), W("ลูกชายหาย", "(my) son is missing", _GOT_BETTER),
        W("หลานหาย", "grandchild is missing", _GOT_BETTER), W("ลักพาตัว", "abduction"),
        W("ลักพา", "abduction (short form)"), W("ลักเด็ก", "child abduction"), W("ถูกอุ้ม", "abducted (colloquial)"),
        W("อุ้มเด็กไป", "carried a child off"), W("ถูกจับตัวไป", "taken away by force"),
        W("หลอกพาเด็กไป", "lured a child away"), W("พรากผู้เยาว์", "taking a minor away"),
        W("เรียกค่าไถ่", "ransom"), W("ขายลูก", "selling a child", _NOT_A_CHILD), W("ขายเด็ก", "selling a child"),
    )),
    DangerGroup("sexual_violence", P1, "sexual violence", (
        W("ข่มขืน", "rape"), W("ข่มขื่น", "rape (common misspelling)"), W("ขมขืน", "rape (missing tone mark)"),
        W("รุมโทรม", "gang rape"), W("ขืนใจ", "rape (euphemism)"), W("ถูกปล้ำ", "sexually assaulted (colloquial)"),
        W("โดนปล้ำ", "sexually assaulted (colloquial)"), W("ล่วงละเมิดทางเพศ", "sexual abuse"),
        W("ล่วงละเมิด", "abuse", ("สิทธิ", "ลิขสิทธิ์", "ข้อมูล")), W("ละเมิดทางเพศ", "sexual abuse"),
        W("อนาจาร", "indecent assault"), W("กระทำชำเรา", "sexual intercourse with a minor (legal term)"),
        W("ลวนลามเด็ก", "molesting a child"), W("ลวนลามลูก", "molesting (my) child", _NOT_A_CHILD),
        W("ค้าประเวณีเด็ก", "child prostitution"), W("บังคับค้าประเวณี", "forced prostitution"),
        W("บังคับขายบริการ", "forced sex work"), W("บังคับขายตัว", "forced prostitution (colloquial)"),
        W("สื่อลามกเด็ก", "child sexual abuse material"),
    )),
    DangerGroup("child_alone", P1, "a child alone or abandoned", (
        W("เด็กถูกทิ้ง", "abandoned child"), W("ทิ้งเด็ก", "abandoning a child"), W("ทิ้งทารก", "abandoning a baby"),
        W("ทารกถูกทิ้ง", "abandoned baby"), W("ทิ้งลูกไว้คนเดียว", "child left alone"),
        W("ปล่อยลูกไว้คนเดียว", "child left alone"), W("ปล่อยเด็กไว้คนเดียว", "child left alone"),
        W("เด็กอยู่คนเดียว", "child alone"), W("ลูกอยู่คนเดียว", "(my) child is alone"),
        W("ลืมลูกไว้ในรถ", "child forgotten in a car"), W("เด็กติดอยู่ในรถ", "child trapped in a car"),
        W("เด็กไม่มีคนดูแล", "child with no one to look after them"),
    )),
    DangerGroup("medical", P1, "life-threatening condition", (
        W("หมดสติ", "unconscious"), W("ไม่รู้สึกตัว", "unresponsive"), W("ไม่หายใจ", "not breathing"),
        W("หายใจไม่ออก", "cannot breathe"), W("หายใจไม่ได้", "cannot breathe"), W("ชักเกร็ง", "convulsing"),
        W("ชักกระตุก", "seizure"), W("เลือดออกมาก", "heavy bleeding"), W("เลือดไหลไม่หยุด", "bleeding won't stop"),
        W("เลือดท่วม", "covered in blood"), W("ตกเลือด", "haemorrhage"), W("ใกล้ตาย", "close to death"),
        W("โคม่า", "coma"), W("จมน้ำ", "drowning"), W("ไฟไหม้", "fire"), W("เสพยาเกินขนาด", "drug overdose"),
        W("เจ็บท้องคลอด", "in labour"), W("กำลังจะคลอด", "about to give birth"), W("น้ำคร่ำแตก", "waters broke"),
    )),
    DangerGroup("threat", P2, "threats and harassment", (
        W("ขู่", "threatening"), W("ข่มขู่", "intimidation"), W("ขู่ทำร้าย", "threatening to hurt"),
        W("ขู่จะทำร้าย", "threatening to hurt"), W("คุกคาม", "harassment, menace"), W("ตามรังควาน", "harassing"),
        W("สะกดรอยตาม", "stalking"), W("ลวนลาม", "groping, molesting"), W("คุกคามทางเพศ", "sexual harassment"),
        W("ทำร้ายจิตใจ", "psychological abuse"), W("ด่าทอ", "verbal abuse"),
        # Often a parent's rule for a teenager, sometimes coercive control: urgent, not P1 on its own.
        W("ไม่ให้ออกจากบ้าน", "not allowed out of the house"),
        W("ไม่ยอมให้ออกจากบ้าน", "not allowed out of the house"),
    )),
    DangerGroup("neglect", P2, "neglect", (
        W("ทอดทิ้ง", "abandonment, neglect"), W("ถูกทิ้ง", "abandoned"), W("ทิ้งลูก", "abandoned (their) child", _NOT_A_CHILD),
        W("ทิ้งพ่อแม่", "abandoned (their) parents"), W("ไม่มีคนดูแล", "no one to look after them"),
        W("ไม่มีใครดูแล", "no one to look after them"), W("ไม่มีผู้ดูแล", "no carer"), W("ขาดการดูแล", "lacks care"),
        W("ปล่อยปละละเลย", "neglect"), W("ละเลย", "neglect"), W("เด็กเร่ร่อน", "street child"),
    )),
    DangerGroup("no_food", P2, "no food", (
        W("ไม่มีข้าวกิน", "no rice to eat"), W("ไม่มีอะไรกิน", "nothing to eat"), W("ไม่มีกิน", "nothing to eat"),
        W("ไม่ได้กินข้าว", "has not eaten"), W("อดข้าว", "going without food"), W("อดอาหาร", "starving"),
        W("อดอยาก", "starving"), W("หิวโซ", "famished"), W("ไม่มีเงินซื้อข้าว", "no money for food"),
        W("ไม่มีนมให้ลูก", "no milk for the baby"), W("ไม่มีนมกิน", "no milk"),
    )),
    DangerGroup("no_shelter", P2, "eviction or no shelter tonight", (
        W("ไล่ออกจากบ้าน", "thrown out of the house"), W("ไล่ออกจากห้อง", "thrown out of the room"),
        W("ไล่ที่", "eviction"), W("ไม่มีที่นอน", "nowhere to sleep"), W("ไม่มีที่อยู่", "nowhere to live"),
        W("ไม่มีที่พัก", "no place to stay"), W("ไม่มีที่ไป", "nowhere to go"), W("นอนข้างถนน", "sleeping on the street"),
        W("นอนริมถนน", "sleeping by the road"), W("นอนใต้สะพาน", "sleeping under a bridge"),
        W("นอนตามถนน", "sleeping on the streets"), W("นอนป้ายรถเมล์", "sleeping at a bus stop"),
    )),
    DangerGroup("exploitation", P2, "trafficking or forced labour signs", (
        W("ค้ามนุษย์", "human trafficking"), W("หลอกไปทำงาน", "lured into work"), W("หลอกไปขาย", "lured and sold"),
        W("ถูกหลอกขาย", "sold by deception"), W("ยึดพาสปอร์ต", "passport confiscated"),
        W("ยึดหนังสือเดินทาง", "passport confiscated"), W("ยึดบัตร", "ID card confiscated"),
        W("ยึดเอกสาร", "documents confiscated"), W("บังคับทำงาน", "forced to work"),
        W("บังคับใช้แรงงาน", "forced labour"), W("ใช้แรงงานเด็ก", "child labour"),
        W("ไม่ได้รับค่าจ้าง", "not paid"), W("ทำงานใช้หนี้", "debt bondage"), W("บังคับขอทาน", "forced begging"),
        W("เด็กขอทาน", "begging child"), W("ขายบริการ", "sex work"),
    )),
    DangerGroup("missing", P2, "someone missing or lost", (
        W("หายตัวไป", "disappeared"), W("หายออกจากบ้าน", "went missing from home"),
        W("หนีออกจากบ้าน", "ran away from home"), W("ไม่กลับบ้าน", "has not come home"),
        W("พลัดหลง", "lost, separated"), W("หลงทาง", "lost their way"),
    )),
    DangerGroup("crisis", P2, "a person out of control", (
        W("อาละวาด", "rampaging"), W("เมาอาละวาด", "drunk and rampaging"), W("คลุ้มคลั่ง", "berserk"),
        W("คลั่ง", "frenzied", ("ไคล้", "รัก")), W("หลอนยา", "drug-induced psychosis"), W("เมายา", "high on drugs"),
    )),
)


@dataclass(frozen=True, slots=True)
class PriorityAssessment:
    priority: Priority
    reasons: tuple[str, ...]  # English, every input that counted, the operator's first
    danger_words: tuple[str, ...]  # lexicon terms found (not negated), in order of appearance


@dataclass(frozen=True, slots=True)
class _Entry:
    word: DangerWord
    group: DangerGroup


# Category baselines: what the problem alone says, whatever the words (the operator can only be raised by them).
CATEGORY_BASELINE = {Category.domestic_violence: P2, Category.human_trafficking: P2}
# A child on the street, missing, pregnant or in a child-protection case; a vulnerable adult gone missing.
TARGET_BASELINE = {
    **{(TargetGroup.child, c): P2 for c in (Category.child_youth, Category.missing_person, Category.homeless,
                                            Category.begging, Category.teen_pregnancy)},
    (TargetGroup.elderly, Category.missing_person): P2,
    (TargetGroup.disabled, Category.missing_person): P2,
}
DEFAULT_PRIORITY = P3  # no operator urgency and nothing urgent: a visit within the deadline

# Zero-width and direction marks typists and copy-paste leave inside Thai words (ZWSP is Thai's word-break hint).
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u180e")
# Directly before a word: ไม่, ไม่ได้, ไม่มี, ไม่เคย, ไม่ใช่, ไม่ได้ถูก, ไม่เคยโดน, มิได้ …
_NEGATION = re.compile("(?:ไม่|มิได้|มิใช่)(?:ได้|เคย|ใช่)?(?:มี|ได้)?(?:ถูก|โดน)?$")
_NEGATION_REACH = 12  # characters: the longest negation above


def _parts(text: str) -> list[str]:
    """The text between whitespace, after NFC, without invisible characters, with SARA AM as one character.

    Not lower-cased: every lexicon term is caseless (checked at import), so case cannot change a match, and
    `str.lower` over Thai text would be a fifth of the time of an assessment.
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    for ch in _INVISIBLE:  # `in` is a fast C search; a regex class over Thai text costs more
        if ch in text:
            text = text.replace(ch, "")
    if "\u0e4d\u0e32" in text:  # ํ + า typed (or extracted from PDFs) for ำ
        text = text.replace("\u0e4d\u0e32", "\u0e33")
    return text.split()


def normalise(text: str) -> str:
    """Text as danger words are matched in it: NFC, no invisible characters or whitespace, Latin lower-cased."""
    return "".join(_parts(text)).lower()


def _automaton(terms: list[str]) -> ahocorasick.Automaton:
    """Every term at every position in one pass over the text (Aho-Corasick, in C): a regex alternation of a few
    hundred Thai words tried at each character cost a quarter of a routing decision."""
    automaton = ahocorasick.Automaton()
    for term in terms:
        automaton.add_word(term, len(term))
    automaton.make_automaton()
    return automaton


def _entries() -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for group in LEXICON:
        for word in group.words:
            if word.term in entries or normalise(word.term) != word.term or word.term.upper() != word.term:
                raise ValueError(f"danger word {word.term!r}: listed twice, not normalised or not caseless")
            entries[word.term] = _Entry(word, group)
    return entries


_ENTRIES = _entries()
_AUTOMATON = _automaton(list(_ENTRIES))


def _find_danger_words(description: str) -> tuple[list[tuple[str, _Entry]], list[tuple[str, str]]]:
    """The danger words in a description, in order, and the negated ones with their negation."""
    parts = _parts(description)
    text = "".join(parts)
    longest: dict[int, int] = {}  # start → end of the longest term there: a shorter one is part of it
    for last, size in _AUTOMATON.iter(text):
        start, end = last + 1 - size, last + 1
        if longest.get(start, -1) < end:
            longest[start] = end
    spans = list(longest.items())
    if not spans:
        return [], []
    kept = [(s, e) for s, e in spans if not text.startswith(_ENTRIES[text[s:e]].word.unless_followed_by, e)]
    # A word inside a longer lexicon phrase counts as that phrase (ขู่ทำร้าย is a threat, not an assault): sorted by
    # (start, longest first), a span is inside another exactly when an earlier one reaches as far.
    kept = sorted(set(kept), key=lambda span: (span[0], -span[1]))
    outer: list[tuple[int, int]] = []
    reach = -1
    for s, e in kept:
        if e > reach:
            outer.append((s, e))
            reach = e
    found: list[tuple[str, _Entry]] = []
    negated: list[tuple[str, str]] = []
    breaks: list[int] | None = None
    previous_end = 0
    for s, e in outer:
        term = text[s:e]
        # The negation must not be the tail of the danger word before (หายใจไม่ได้|ถูกบีบคอ).
        neg = _NEGATION.search(text, max(previous_end, s - _NEGATION_REACH), s)
        previous_end = e
        if neg is not None:
            if breaks is None:  # where whitespace was removed, as positions in `text`
                breaks = list(accumulate(map(len, parts[:-1])))
            # Whitespace between the negation and the word is a clause break, not a negation ("ทนไม่ได้ ถูกตี").
            i = bisect_right(breaks, neg.start())
            if i == len(breaks) or breaks[i] > s:
                negated.append((term, text[neg.start():e]))
                continue
        found.append((term, _ENTRIES[term]))
    return found, negated


def assess_priority(urgency: Priority | None, category: Category, target_group: TargetGroup,
                    description: str) -> PriorityAssessment:
    """The most urgent of the operator's urgency (never lowered) and the danger words; the category baseline only
    stands in for an urgency the operator did not give (an operator who heard the call outranks a category table,
    while a danger word in the description is a safety net that may still raise it)."""
    levels: list[Priority] = []
    reasons: list[str] = []
    if urgency is not None:
        levels.append(urgency)
        reasons.append(f"operator set {urgency}")
    baseline = _baseline(category, target_group) if urgency is None else None
    if baseline is not None:
        levels.append(baseline[0])
        reasons.append(f"{baseline[1]} → {baseline[0]}")
    found, negated = _find_danger_words(description)
    words: list[str] = []
    for term, entry in found:
        if term in words:
            continue
        words.append(term)
        levels.append(entry.group.priority)
        reasons.append(f"danger word '{term}' ({entry.word.gloss}) → {entry.group.priority}")
    reasons.extend(f"danger word '{term}' negated ('{context}'), not counted" for term, context in negated)
    if not levels:
        levels.append(DEFAULT_PRIORITY)
        reasons.append(f"no operator urgency, urgent category or danger word → {DEFAULT_PRIORITY}")
    return PriorityAssessment(min(levels, key=RANK.__getitem__), tuple(reasons), tuple(words))


def _baseline(category: Category, target_group: TargetGroup) -> tuple[Priority, str] | None:
    by_target = TARGET_BASELINE.get((target_group, category))
    if by_target is not None:
        return by_target, f"{category} for target group {target_group}"
    by_category = CATEGORY_BASELINE.get(category)
    if by_category is not None:
        return by_category, f"category {category}"
    return None
