"""Priority: the operator's urgency is never lowered; the category and Thai danger words in the description raise it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline_common.events import Category, Priority, TargetGroup
from hotline_routing.priority import LEXICON, RANK, assess_priority, normalise

P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4


def assess(description: str, urgency: Priority | None = None, category: Category = Category.other,
           target_group: TargetGroup = TargetGroup.general) -> tuple[Priority, tuple[str, ...], tuple[str, ...]]:
    a = assess_priority(urgency, category, target_group, description)
    return a.priority, a.danger_words, a.reasons


# Reports as a 1300 operator types them, one or more per P1 group of the lexicon.
P1_REPORTS = [
    ("violence", "แม่โทรมาแจ้งว่าสามีเมาแล้วทุบตีเธอกับลูก ตอนนี้ยังอาละวาดอยู่ในบ้าน", "ทุบตี"),
    ("violence", "เพื่อนบ้านได้ยินเสียงเด็กร้องทุกคืน พ่อเลี้ยงซ้อมลูกจนตัวเขียว", "ซ้อมลูก"),
    ("violence", "ภรรยาถูกสามีบีบคอเมื่อสักครู่ ตอนนี้หนีมาอยู่บ้านญาติ", "บีบคอ"),
    ("violence", "ผู้สูงอายุถูกหลานทำร้ายร่างกายเพื่อเอาเงินเบี้ยยังชีพ", "ทำร้ายร่างกาย"),
    ("weapon", "ลูกชายติดยาถือมีดไล่แทงแม่อยู่ในบ้าน ขอความช่วยเหลือด่วน", "ถือมีด"),
    ("weapon", "สามีควักปืนออกมาขู่ภรรยากลางตลาด", "ควักปืน"),
    ("threat_to_life", "อดีตสามีโทรมาขู่ฆ่าทุกวัน บอกว่าคืนนี้จะมาหาที่บ้าน", "ขู่ฆ่า"),
    ("suicide", "ลูกสาววัยรุ่นโพสต์เฟซบุ๊กว่าอยากตาย ตอนนี้ติดต่อไม่ได้", "อยากตาย"),
    ("suicide", "ชายอายุประมาณ 40 ปี ยืนอยู่บนราวสะพาน บอกว่าจะกระโดดสะพาน", "กระโดดสะพาน"),
    ("suicide", "ยายกินยาฆ่าแมลงหลังทะเลาะกับลูกชาย", "กินยาฆ่าแมลง"),
    ("suicide", "น้องผู้หญิงพิมพ์มาทางไลน์ว่าจะค่าตัวตายคืนนี้", "ค่าตัวตาย"),
    ("suicide", "ผู้แจ้งบอกว่าไม่อยากมีชีวิตอยู่แล้ว เป็นหนี้นอกระบบ", "ไม่อยากมีชีวิตอยู่"),
    ("confinement", "เด็กหญิงอายุ 12 ปี ถูกพ่อเลี้ยงขังไว้ในห้อง ไม่ให้ไปโรงเรียน", "ขังไว้"),
    ("confinement", "ผู้สูงอายุติดเตียงถูกลูกล่ามโซ่ไว้ใต้ถุนบ้าน", "ล่ามโซ่"),
    ("abduction", "ลูกหายตั้งแต่เมื่อเย็น อายุ 4 ขวบ ออกไปเล่นหน้าบ้านแล้วไม่กลับมา", "ลูกหาย"),
    ("abduction", "มีคนเห็นชายแปลกหน้าลักพาตัวเด็กไปจากหน้าโรงเรียน", "ลักพาตัว"),
    ("sexual_violence", "นักเรียนหญิง ม.2 ถูกครูล่วงละเมิดทางเพศ แม่ไม่กล้าแจ้งความ", "ล่วงละเมิดทางเพศ"),
    ("sexual_violence", "หลานสาวอายุ 9 ขวบถูกลุงข่มขื่น", "ข่มขื่น"),
    ("child_alone", "พบทารกถูกทิ้งไว้ข้างถังขยะหน้าหมู่บ้าน", "ทารกถูกทิ้ง"),
    ("child_alone", "แม่ออกไปทำงานต่างจังหวัด ปล่อยเด็กไว้คนเดียวในห้องเช่าสามวันแล้ว", "ปล่อยเด็กไว้คนเดียว"),
    ("medical", "ยายล้มในห้องน้ำ หมดสติ ไม่มีใครอยู่ด้วย", "หมดสติ"),
    ("medical", "เด็กหายใจไม่ออก ตัวเขียว แม่ไม่รู้จะทำอย่างไร", "หายใจไม่ออก"),
]


@pytest.mark.parametrize(("group", "report", "word"), P1_REPORTS, ids=[f"{g}-{w}" for g, _, w in P1_REPORTS])
def test_a_report_of_danger_now_is_p1_with_the_word_that_said_so(group: str, report: str, word: str) -> None:
    priority, words, reasons = assess(report)
    assert priority == P1 and word in words
    assert any(r.startswith(f"danger word '{word}' (") and r.endswith("→ P1") for r in reasons)


def test_every_p1_group_of_the_lexicon_has_a_report_here() -> None:
    assert {g.name for g in LEXICON if g.priority == P1} == {group for group, _, _ in P1_REPORTS}


@pytest.mark.parametrize(("report", "word"), [
    ("ถูกสามีขู่ทำร้ายผ่านโทรศัพท์ทุกวัน", "ขู่ทำร้าย"),
    ("ยายอายุ 80 ปี ถูกทอดทิ้งให้อยู่คนเดียว", "ทอดทิ้ง"),
    ("แม่ลูกอ่อนไม่มีนมให้ลูก ไม่มีเงิน", "ไม่มีนมให้ลูก"),
    ("เจ้าของห้องเช่าไล่ออกจากบ้านวันนี้ ไม่มีที่ไป", "ไล่ออกจากบ้าน"),
    ("นายจ้างยึดพาสปอร์ตแรงงานไว้", "ยึดพาสปอร์ต"),
    ("ลูกชายหนีออกจากบ้านสองวันแล้ว", "หนีออกจากบ้าน"),
])
def test_urgent_but_not_life_threatening_words_are_p2(report: str, word: str) -> None:
    priority, words, _ = assess(report)
    assert priority == P2 and word in words


def test_the_operators_p1_is_never_lowered() -> None:
    priority, words, reasons = assess("สอบถามเรื่องเบี้ยยังชีพผู้สูงอายุ", urgency=P1, category=Category.livelihood)
    assert (priority, words, reasons) == (P1, (), ("operator set P1",))


def test_the_operators_p4_is_raised_by_a_danger_word_with_the_reason() -> None:
    priority, words, reasons = assess("ผู้แจ้งเล่าว่าสามีถือมีดขู่ตอนเมา", urgency=P4)
    assert priority == P1 and words == ("ถือมีด", "ขู่")
    assert reasons == ("operator set P4", "danger word 'ถือมีด' (holding a knife) → P1",
                       "danger word 'ขู่' (threatening) → P2")


def test_advice_only_stays_p4_when_nothing_says_otherwise() -> None:
    assert assess("สอบถามขั้นตอนการขอรับเงินอุดหนุนเด็กแรกเกิด", urgency=P4, category=Category.livelihood)[0] == P4


@given(st.sampled_from(Priority), st.sampled_from(Category), st.sampled_from(TargetGroup),
       st.text(alphabet=st.sampled_from("ไม่ได้ถูกทำร้ายขังตีลูกหายใจ \u200b"), max_size=60))
def test_the_result_is_never_less_urgent_than_the_operator_said(urgency: Priority, category: Category,
                                                                target_group: TargetGroup, text: str) -> None:
    assert RANK[assess_priority(urgency, category, target_group, text).priority] <= RANK[urgency]


@pytest.mark.parametrize(("report", "negated"), [
    ("ผู้แจ้งยืนยันว่าสามีไม่ได้ทำร้ายร่างกาย แค่ทะเลาะกันเสียงดัง", "ทำร้ายร่างกาย"),
    ("คนที่มาเร่ร่อนหน้าบ้านไม่มีอาวุธ ไม่ได้ก่อเหตุ", "อาวุธ"),
    ("เด็กไม่ได้ถูกขัง แต่ไม่ยอมไปโรงเรียน", "ถูกขัง"),
    ("เขาบอกว่าไม่อยากตาย แค่เครียดเรื่องงาน", "อยากตาย"),
    ("ลูกบอกว่าไม่เคยถูกตีเลย", "ถูกตี"),
    ("น้องมิได้ถูกทำร้าย", "ถูกทำร้าย"),
])
def test_a_negated_danger_word_does_not_count_and_the_reasons_say_so(report: str, negated: str) -> None:
    priority, words, reasons = assess(report)
    assert priority == P3 and words == ()
    assert any(r.startswith(f"danger word '{negated}' negated") for r in reasons)


def test_a_negation_across_a_clause_break_or_ending_another_danger_word_is_not_trusted() -> None:
    assert assess("ทนไม่ได้ ถูกตีทุกวัน")[:2] == (P1, ("ถูกตี",))
    assert assess("หายใจไม่ได้ถูกบีบคอ")[1] == ("หายใจไม่ได้", "บีบคอ")


@pytest.mark.parametrize("report", [
    "ตีสองแล้ว เพื่อนบ้านเปิดเพลงเสียงดังมาก",  # ตี = o'clock at night
    "น้ำขังหน้าบ้านมาสามวัน ยุงเยอะ",  # standing water
    "ลูกหายป่วยแล้ว อยากสอบถามเรื่องทุนการศึกษา",  # got better
    "แม่ขายลูกชิ้นทอดหน้าโรงเรียน รายได้ไม่พอ",  # meatballs
    "ต้องใช้แอลกอฮอล์เพื่อจะฆ่าเชื้อที่แผลกดทับ",  # disinfect
    "เอกสารขอเบี้ยความพิการถูกตีกลับสองครั้ง",  # bounced back
    "หลานชอบตีลูกเทนนิสกับเพื่อน",  # hitting a tennis ball
    "วัยรุ่นคลั่งไคล้นักร้องเกาหลี",  # a fan
    "เด็กหายใจได้ปกติแล้ว",  # breathing normally
])
def test_everyday_homographs_are_not_danger_words(report: str) -> None:
    assert assess(report)[:2] == (P3, ())


def test_a_word_inside_a_longer_phrase_counts_as_the_phrase() -> None:
    assert assess("ถูกขู่ทำร้ายผ่านโทรศัพท์")[:2] == (P2, ("ขู่ทำร้าย",))  # a threat, not an assault
    assert assess("ลูกขู่ว่าจะฆ่าตัวตาย")[1] == ("ขู่", "ฆ่าตัวตาย")  # suicide, not a threat to kill someone
    assert assess("เด็กหายใจไม่ออก")[1] == ("หายใจไม่ออก",)  # not a missing child


def test_each_danger_word_is_listed_once_in_order_of_appearance() -> None:
    assert assess("สามีทุบตีทุกวัน ถือมีดด้วย วันนี้ก็ทุบตีอีก")[1] == ("ทุบตี", "ถือมีด")


@pytest.mark.parametrize("report", [
    "ลูกบอกว่าจะฆ่า\u200bตัว\u00a0ตาย",  # a zero-width space and a no-break space inside the word
    "ลูกบอกว่าจะฆ่า ตัว  ตาย",
    "ลูกบอกว่าจะ\u2060ฆ่าตัว\tตาย\n",
    "ลูกบอกว่าจะ\ufeffฆ่าตัวตาย",
])
def test_invisible_characters_and_odd_whitespace_inside_a_word_still_match(report: str) -> None:
    assert assess(report)[:2] == (P1, ("ฆ่าตัวตาย",))


def test_sara_am_typed_as_nikhahit_and_sara_aa_still_matches() -> None:
    assert assess("สามีท\u0e4d\u0e32ร้ายภรรยา")[:2] == (P1, ("ทำร้าย",))


@pytest.mark.parametrize(("category", "target_group", "priority", "reason"), [
    (Category.domestic_violence, TargetGroup.woman, P2, "category domestic_violence → P2"),
    (Category.human_trafficking, TargetGroup.general, P2, "category human_trafficking → P2"),
    (Category.child_youth, TargetGroup.child, P2, "child_youth for target group child → P2"),
    (Category.missing_person, TargetGroup.child, P2, "missing_person for target group child → P2"),
    (Category.missing_person, TargetGroup.elderly, P2, "missing_person for target group elderly → P2"),
    (Category.begging, TargetGroup.child, P2, "begging for target group child → P2"),
    (Category.missing_person, TargetGroup.general, P3, "no operator urgency, urgent category or danger word → P3"),
    (Category.livelihood, TargetGroup.general, P3, "no operator urgency, urgent category or danger word → P3"),
    (Category.elderly, TargetGroup.elderly, P3, "no operator urgency, urgent category or danger word → P3"),
])
def test_the_category_and_target_group_set_a_baseline(category: Category, target_group: TargetGroup,
                                                       priority: Priority, reason: str) -> None:
    assert assess("ขอความช่วยเหลือ", category=category, target_group=target_group)[::2] == (priority, (reason,))


def test_the_category_baseline_does_not_overrule_the_operator() -> None:
    priority, _, reasons = assess("ขอคำปรึกษา", urgency=P3, category=Category.domestic_violence)
    assert priority == P3 and reasons == ("operator set P3",)
    assert assess("ขอคำปรึกษา", category=Category.domestic_violence)[0] == P2


def test_the_lexicon_is_normalised_caseless_and_glossed() -> None:
    terms = [w.term for g in LEXICON for w in g.words]
    assert len(terms) == len(set(terms)) >= 250
    assert all(normalise(t) == t for t in terms)
    assert all(w.gloss for g in LEXICON for w in g.words)
    assert all(len(g.words) >= 10 for g in LEXICON if g.priority == P1)


