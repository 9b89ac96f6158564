"""Thai labels with English beside them, for every screen and message: declared once, for every service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline_common.events import Category, Channel, Priority, Safety, TargetGroup
from hotline_common.events.cases import ResolveOutcome

CATEGORY: dict[Category, tuple[str, str]] = {
    Category.domestic_violence: ("ความรุนแรงในครอบครัว", "domestic violence"),
    Category.teen_pregnancy: ("ตั้งครรภ์ไม่พร้อมในวัยรุ่น", "teen pregnancy"),
    Category.human_trafficking: ("การค้ามนุษย์", "human trafficking"),
    Category.drugs: ("ผู้ได้รับผลกระทบจากยาเสพติด", "affected by drugs"),
    Category.homeless: ("คนเร่ร่อน/ไร้ที่พึ่ง", "homeless, destitute"),
    Category.begging: ("ขอทาน", "begging"),
    Category.child_youth: ("เด็กและเยาวชน", "children and youth"),
    Category.missing_person: ("บุคคลสูญหาย", "missing person"),
    Category.elderly: ("ผู้สูงอายุ", "older person"),
    Category.disability: ("คนพิการ", "person with disability"),
    Category.livelihood: ("รายได้ ที่อยู่อาศัย การศึกษา", "livelihood, housing, education"),
    Category.stateless: ("ไร้สัญชาติ", "stateless"),
    Category.other: ("อื่น ๆ", "other"),
}

TARGET_GROUP: dict[TargetGroup, tuple[str, str]] = {
    TargetGroup.child: ("เด็ก", "child"),
    TargetGroup.youth: ("เยาวชน", "youth"),
    TargetGroup.woman: ("สตรี", "woman"),
    TargetGroup.family: ("ครอบครัว", "family"),
    TargetGroup.single_parent: ("พ่อ/แม่เลี้ยงเดี่ยว", "single parent"),
    TargetGroup.elderly: ("ผู้สูงอายุ", "older person"),
    TargetGroup.disabled: ("คนพิการ", "person with disability"),
    TargetGroup.homeless: ("คนไร้ที่พึ่ง", "homeless"),
    TargetGroup.vulnerable_household: ("ครัวเรือนเปราะบาง", "vulnerable household"),
    TargetGroup.general: ("ประชาชนทั่วไป", "general public"),
}

PRIORITY: dict[Priority, tuple[str, str]] = {
    Priority.P1: ("ด่วนที่สุด — อันตรายต่อชีวิตตอนนี้", "most urgent — danger to life now"),
    Priority.P2: ("ด่วน", "urgent"),
    Priority.P3: ("ต้องลงพื้นที่", "needs a visit"),
    Priority.P4: ("ให้คำปรึกษา", "advice only"),
}

# When an operator chooses each priority (DESIGN.md §4); the acknowledgement deadlines are routing's settings.
PRIORITY_WHEN: dict[Priority, tuple[str, str]] = {
    Priority.P1: ("ความรุนแรงกำลังเกิดขึ้น เด็กตกอยู่ในอันตราย เสี่ยงฆ่าตัวตาย",
                  "violence in progress, a child at risk, suicide risk"),
    Priority.P2: ("ต้องได้รับความช่วยเหลือโดยเร็ว", "needs help soon"),
    Priority.P3: ("ต้องลงพื้นที่เยี่ยมบ้าน", "a home visit is needed"),
    Priority.P4: ("ให้คำปรึกษาทางโทรศัพท์ เจ้าหน้าที่รับสายปิดเรื่องเอง", "advice on the phone; the operator closes it"),
}

OUTCOME: dict[ResolveOutcome, tuple[str, str]] = {
    ResolveOutcome.helped_on_site: ("ช่วยเหลือในพื้นที่แล้ว", "helped on site"),
    ResolveOutcome.referred_to_agency: ("ส่งต่อหน่วยงาน พม.", "referred to an MSDHS agency"),
    ResolveOutcome.referred_to_police_or_hospital: ("ส่งต่อตำรวจหรือโรงพยาบาล", "referred to police or hospital"),
    ResolveOutcome.sheltered: ("ส่งเข้าบ้านพัก/สถานคุ้มครอง", "placed in a shelter"),
    ResolveOutcome.advice_given: ("ให้คำปรึกษาแล้ว", "advice given"),
    ResolveOutcome.no_contact: ("ติดต่อผู้ประสบปัญหาไม่ได้", "could not reach the person"),
    ResolveOutcome.not_needed: ("ไม่ต้องการความช่วยเหลือ/แจ้งผิด", "no help needed or false report"),
    ResolveOutcome.other: ("อื่น ๆ", "other"),
}


CHANNEL: dict[Channel, tuple[str, str]] = {
    Channel.hotline: ("สายด่วน 1300", "hotline 1300"),
    Channel.line: ("LINE", "LINE"),
    Channel.walk_in: ("มาติดต่อที่ศูนย์", "walk-in"),
}

# A case's status as intake keeps it (hotline_intake.cases.STATUS_BY_EVENT).
CASE_STATUS: dict[str, tuple[str, str]] = {
    "reported": ("รับแจ้งแล้ว", "reported"),
    "routed": ("ส่งต่อศูนย์แล้ว", "routed"),
    "unroutable": ("ส่งต่อไม่ได้", "could not be routed"),
    "alerted": ("แจ้งเตือนแล้ว รอรับเรื่อง", "alerted, awaiting acknowledgement"),
    "alert_failed": ("แจ้งเตือนไม่สำเร็จ", "alert failed"),
    "escalated": ("ยกระดับแล้ว", "escalated"),
    "declined": ("ศูนย์ปฏิเสธ กำลังส่งต่อ", "declined, being re-routed"),
    "acknowledged": ("มีผู้รับเรื่องแล้ว", "acknowledged"),
    "resolved": ("ปิดเรื่องแล้ว", "resolved"),
}

# What each entry of a case's timeline says happened.
CASE_EVENT: dict[str, tuple[str, str]] = {
    "reported": ("รับแจ้ง", "reported"),
    "routed": ("ส่งต่อ", "routed"),
    "unroutable": ("ส่งต่อไม่ได้", "not routable"),
    "alert_sent": ("แจ้งเตือนแล้ว", "alert sent"),
    "alert_failed": ("แจ้งเตือนไม่สำเร็จ", "alert failed"),
    "escalated": ("ยกระดับ", "escalated"),
    "declined": ("ปฏิเสธ", "declined"),
    "acknowledged": ("รับเรื่อง", "acknowledged"),
    "resolved": ("ปิดเรื่อง", "resolved"),
    "note": ("บันทึกเพิ่ม", "note added"),
    "linked": ("ตรวจสอบเรื่องซ้ำ", "duplicate checked"),
    "urgency_raised": ("เร่งด่วนขึ้น", "urgency raised"),
}

# Why an open case became more urgent (hotline.case.urgency_raised.v1 reason_code).
URGENCY_REASON: dict[str, tuple[str, str]] = {
    "danger_words": ("ผู้แจ้งพิมพ์คำที่บ่งว่ามีอันตราย", "the person wrote a danger word"),
    "operator": ("เจ้าหน้าที่ยกระดับ", "raised by an operator"),
}

# What an alert is, as the responder's LINE, SMS and e-mail name it.
ALERT_KIND: dict[str, tuple[str, str]] = {
    "new": ("เรื่องใหม่", "New case"),
    "realert": ("เตือนซ้ำ", "Reminder"),
    "escalated": ("ยกระดับ", "Escalated"),
    "visit_reminder": ("เตือนลงพื้นที่", "Visit reminder"),
    "urgent": ("ด่วนขึ้น", "Now more urgent"),
}

# An operator's answer to a possible duplicate (intake's case_links.decision).
LINK_DECISION: dict[str, tuple[str, str]] = {
    "same_incident": ("เหตุเดียวกัน", "the same incident"),
    "different": ("คนละเหตุ", "a different incident"),
}

# Why two cases are linked (intake's case_links.kind).
CASE_LINK: dict[str, tuple[str, str]] = {
    "same_caller": ("ผู้แจ้งคนเดิม", "same caller"),
    "possible_duplicate": ("อาจเป็นเหตุเดียวกัน", "possible duplicate"),
}

# Who wrote a note on a case (intake's case_notes.source).
NOTE_SOURCE: dict[str, tuple[str, str]] = {
    "operator": ("เจ้าหน้าที่รับสาย", "operator"),
    "supervisor": ("หัวหน้าเวร", "supervisor"),
    "walk_in": ("เจ้าหน้าที่ศูนย์", "center staff"),
    "line": ("ผู้แจ้งทาง LINE", "the person, on LINE"),
}

# How a responder is reached (a responder's contact kind; an alert's channel).
ALERT_CHANNEL: dict[str, tuple[str, str]] = {
    "line": ("LINE", "LINE"),
    "sms": ("SMS", "SMS"),
    "email": ("อีเมล", "e-mail"),
    "webhook": ("ระบบของหน่วยงาน (webhook)", "webhook"),
}


def safety(prefs: Safety) -> list[tuple[str, str]]:
    """What a responder must respect before acting, most restrictive first; empty when nothing was asked."""
    found = []
    if prefs.silent:
        found.append(("แจ้งเหตุเงียบ ห้ามส่งข้อความที่เป็นอันตราย", "silent SOS: send nothing alarming"))
    if prefs.no_callback:
        found.append(("ห้ามโทรกลับ", "do not call back"))
    if prefs.line_only:
        found.append(("ติดต่อทาง LINE เท่านั้น", "LINE only"))
    if prefs.safe_hours is not None:
        window = f"{prefs.safe_hours.start:%H:%M}–{prefs.safe_hours.end:%H:%M}"
        found.append((f"โทรได้เฉพาะ {window} น.", f"call only {window}"))
    if prefs.woman_officer:
        found.append(("ขอเจ้าหน้าที่หญิง", "a woman officer"))
    return found


def th(labels: Mapping[Any, tuple[str, str]], key: object) -> str:
    """The Thai label, or the key itself when a newer enum value has no label yet (never a crash at 3 a.m.)."""
    found = labels.get(key)
    return found[0] if found else str(key)
