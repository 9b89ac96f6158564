"""What the load is made of: cases as the 1300 hotline gets them, drawn from a seeded generator so two runs offer
the same cases in the same order.

- A problem category with a Thai description that fits it, and a target group; the category shares are this
  project's assumption of a hotline day (hardship, the elderly, disability and homelessness most often, violence
  and children close behind), not published figures: `--mix` changes nothing of them, `CATEGORY_SHARES` does.
- A sub-district, uniformly over the 7,436 or weighted by population (the gazetteer's per-province figures
  spread evenly over each province's sub-districts). One case in five gives a position near the sub-district's
  point instead of its code, as a phone's GPS or a LINE location would.
- A channel: an operator taking a call, a LINE conversation, or center staff registering a walk-in. The demo has
  one center staff account; it stands in for the staff of every center, so each walk-in names the sub-district
  of the center it came in at (staff of one center would leave it out and get their own).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hotline_common.events import Category, Channel, TargetGroup
from hotline_gazetteer import Tambon, gazetteer

Places = Literal["population", "uniform"]

CATEGORY_SHARES: Mapping[Category, float] = {
    Category.livelihood: 0.22, Category.elderly: 0.13, Category.disability: 0.10, Category.homeless: 0.10,
    Category.domestic_violence: 0.10, Category.child_youth: 0.09, Category.begging: 0.04,
    Category.missing_person: 0.04, Category.teen_pregnancy: 0.03, Category.drugs: 0.03,
    Category.stateless: 0.03, Category.human_trafficking: 0.02, Category.other: 0.07,
}

# Who the case is about, by problem: the first is the most likely.
TARGETS: Mapping[Category, Sequence[TargetGroup]] = {
    Category.livelihood: (TargetGroup.vulnerable_household, TargetGroup.family, TargetGroup.single_parent),
    Category.elderly: (TargetGroup.elderly,),
    Category.disability: (TargetGroup.disabled,),
    Category.homeless: (TargetGroup.homeless, TargetGroup.elderly),
    Category.domestic_violence: (TargetGroup.woman, TargetGroup.child, TargetGroup.family),
    Category.child_youth: (TargetGroup.child, TargetGroup.youth),
    Category.begging: (TargetGroup.child, TargetGroup.elderly, TargetGroup.disabled),
    Category.missing_person: (TargetGroup.elderly, TargetGroup.youth, TargetGroup.general),
    Category.teen_pregnancy: (TargetGroup.youth,),
    Category.drugs: (TargetGroup.youth, TargetGroup.family),
    Category.stateless: (TargetGroup.general, TargetGroup.child),
    Category.human_trafficking: (TargetGroup.woman, TargetGroup.youth, TargetGroup.general),
    Category.other: (TargetGroup.general,),
}

DESCRIPTIONS: Mapping[Category, Sequence[str]] = {
    Category.livelihood: ("ครอบครัวตกงาน ไม่มีเงินซื้ออาหารให้ลูกสามคน", "ค้างค่าเช่าบ้านสามเดือน เจ้าของจะไล่ออกสิ้นเดือนนี้",
                          "น้ำท่วมบ้านเสียหายทั้งหลัง ไม่มีที่อยู่ชั่วคราว"),
    Category.elderly: ("ผู้สูงอายุอยู่ลำพัง ไม่มีอาหาร ลูกหลานไม่มาดูแล", "ยายอายุ 82 ปี ล้มในบ้าน ลุกเองไม่ได้"),
    Category.disability: ("ผู้พิการนั่งรถเข็นติดอยู่ในบ้าน น้ำท่วมสูง", "ลูกพิการทางสมอง แม่ป่วยหนักดูแลต่อไม่ไหว"),
    Category.homeless: ("มีคนไร้บ้านนอนใต้สะพาน อากาศหนาว ต้องการผ้าห่มและที่พัก", "ชายสูงอายุนอนหน้าตลาดหลายคืนแล้ว"),
    Category.domestic_violence: ("ภรรยาถูกสามีทำร้ายร่างกายเป็นประจำ ขอความช่วยเหลือ",
                                 "เพื่อนบ้านได้ยินเสียงเด็กร้องไห้และเสียงทะเลาะทุกคืน"),
    Category.child_youth: ("เด็กหญิงอายุประมาณ 8 ปี ถูกทิ้งไว้ที่บ้านคนเดียวหลายวัน", "นักเรียนไม่มาโรงเรียน ครูกังวลเรื่องที่บ้าน"),
    Category.begging: ("พบเด็กขอทานบริเวณสี่แยกไฟแดง คาดว่าถูกบังคับ", "ผู้สูงอายุขอทานหน้าห้างทุกวัน"),
    Category.missing_person: ("ญาติหายออกจากบ้านตั้งแต่เมื่อวาน มีอาการหลงลืม", "ลูกสาวอายุ 15 ปีไม่กลับบ้านสองวันแล้ว"),
    Category.teen_pregnancy: ("วัยรุ่นตั้งครรภ์อายุ 15 ปี ไม่กล้าบอกผู้ปกครอง",),
    Category.drugs: ("ลูกชายใช้ยาเสพติดและอาละวาดในบ้าน",),
    Category.stateless: ("บุคคลไม่มีสถานะทางทะเบียน ต้องการความช่วยเหลือด้านการรักษาพยาบาล",),
    Category.human_trafficking: ("แรงงานต่างด้าวถูกยึดเอกสารและไม่ได้รับค่าจ้าง", "หญิงสาวถูกหลอกไปทำงานและถูกกักตัว"),
    Category.other: ("ขอคำปรึกษาเรื่องสิทธิสวัสดิการของผู้ดูแลผู้ป่วยติดเตียง",),
}
DETAILS = ("ผู้แจ้งรออยู่ที่จุดเกิดเหตุ", "ขอให้เจ้าหน้าที่ติดต่อกลับ", "ผู้แจ้งไม่ประสงค์ออกนาม", "เหตุเกิดเมื่อประมาณ 30 นาทีที่แล้ว", "")
GEO_SHARE = 0.2  # cases located by a position rather than a sub-district code


@dataclass(frozen=True)
class PlannedCase:
    """One case to offer: `seq` is its place in the run, `body` what intake's POST /v1/cases takes (a LINE case
    is the same facts told through the conversation)."""

    seq: int
    channel: Channel
    category: Category
    target_group: TargetGroup
    tambon: Tambon
    body: dict[str, Any]


def parse_shares(text: str) -> dict[Channel, float]:
    """`hotline=0.6,line=0.3,walk_in=0.1` → shares summing to 1 (any positive numbers: they are normalised)."""
    shares: dict[Channel, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            channel, share = Channel(name.strip()), float(value)
        except ValueError:
            raise ValueError(f"{part!r}: expected <channel>=<share> with channel one of "
                             f"{', '.join(c.value for c in Channel)}") from None
        if share < 0:
            raise ValueError(f"{part!r}: a share cannot be negative")
        shares[channel] = share
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("at least one channel needs a positive share")
    return {c: s / total for c, s in shares.items() if s > 0}


class CaseMix:
    """The seeded stream of cases: `next()` gives the following one."""

    def __init__(self, *, seed: int = 1300, places: Places = "population",
                 channels: Mapping[Channel, float] | None = None, population: Mapping[str, int] | None = None
                 ) -> None:
        self.rnd = random.Random(seed)  # noqa: S311 - repeatable synthetic cases, not secrets
        self.tambons = list(gazetteer().tambons)
        self.weights = place_weights(self.tambons, population) if places == "population" else None
        self.channels = dict(channels or {Channel.hotline: 1.0})
        self.categories = list(CATEGORY_SHARES)
        self.category_weights = [CATEGORY_SHARES[c] for c in self.categories]
        self.seq = 0

    def next(self) -> PlannedCase:
        r = self.rnd
        self.seq += 1
        channel = r.choices(list(self.channels), weights=list(self.channels.values()))[0]
        category = r.choices(self.categories, weights=self.category_weights)[0]
        group = TARGETS[category][0] if r.random() < 0.7 else r.choice(TARGETS[category])
        tambon = r.choices(self.tambons, weights=self.weights)[0] if self.weights else r.choice(self.tambons)
        description = f"{r.choice(DESCRIPTIONS[category])} {r.choice(DETAILS)}".strip()
        body: dict[str, Any] = {"category": category.value, "target_group": group.value, "description": description}
        if channel is not Channel.walk_in and r.random() < GEO_SHARE:
            body["location"] = {"lat": round(tambon.lat + r.uniform(-0.004, 0.004), 6),
                                "lon": round(tambon.lon + r.uniform(-0.004, 0.004), 6)}
        else:
            body["location"] = {"tambon_code": tambon.code}
        if channel is Channel.hotline and r.random() < 0.5:
            body["caller"] = {"name": "ผู้แจ้ง ทดสอบ", "phone": f"08{r.randrange(10**8):08d}"}
        return PlannedCase(self.seq, channel, category, group, tambon, body)


def place_weights(tambons: Sequence[Tambon], population: Mapping[str, int] | None) -> list[float] | None:
    """Each sub-district's share of its province's population (None: no figures, so uniform)."""
    if not population:
        return None
    per_province: dict[str, int] = {}
    for t in tambons:
        per_province[t.province_code] = per_province.get(t.province_code, 0) + 1
    return [population.get(t.province_code, 0) / per_province[t.province_code] for t in tambons]
