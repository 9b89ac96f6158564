"""What the bot says and the buttons it offers: Thai first, a short English line after. Pure values; `replies.py`
turns them into LINE message objects.

Quick reply buttons honour LINE's contract: at most 13 per message, labels at most 20 characters as LINE counts them
(grapheme clusters) — a longer Thai label is clipped and the full one is the button's `displayText`, which is what
the chat then shows as the person's answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hotline_common import labels
from hotline_common.events import Category, Safety, TargetGroup
from hotline_common.line import LABEL_MAX, QUICK_REPLY_ITEMS_MAX, clip

DISPLAY_MAX = 300  # a postback's displayText


class Button(BaseModel):
    """One quick reply button: a postback (`data`, shown in the chat as `display`), the location picker, or a link."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["postback", "location", "uri"]
    label: str
    data: str | None = None
    display: str | None = None
    uri: str | None = None


class Reply(BaseModel):
    """One text message of the bot, with the quick reply buttons under it."""

    model_config = ConfigDict(frozen=True)

    text: str
    buttons: tuple[Button, ...] = ()


def postback(label: str, data: str, display: str | None = None) -> Button:
    return Button(kind="postback", label=clip(label, LABEL_MAX), data=data,
                  display=clip(display or label, DISPLAY_MAX))


def say(text: str, buttons: Iterable[Button] = ()) -> Reply:
    return Reply(text=text, buttons=tuple(buttons)[:QUICK_REPLY_ITEMS_MAX])


# The silent SOS: a button that says nothing to whoever reads the chat over the person's shoulder. Its tap shows
# only "📍" in the chat, and the bot answers as blandly.
SOS = Button(kind="postback", label="📍", data="sos", display="📍")
SEND_LOCATION = Button(kind="location", label="ส่งตำแหน่ง · Location")
SOS_LOCATION = Button(kind="location", label="📍")
CALL_1300 = Button(kind="uri", label="โทร 1300 · Call", uri="tel:1300")
START = postback("แจ้งเรื่อง · Report", "start", "แจ้งเรื่อง")
NEW_REPORT = postback("แจ้งเรื่องใหม่ · New", "start", "แจ้งเรื่องใหม่")

GREETING = ("สวัสดีค่ะ ที่นี่ศูนย์ช่วยเหลือสังคม สายด่วน 1300 กระทรวงการพัฒนาสังคมและความมั่นคงของมนุษย์ "
            "รับแจ้งเรื่องตลอด 24 ชั่วโมง\nเล่าสิ่งที่เกิดขึ้นได้เลย หรือกดปุ่มด้านล่างค่ะ\n"
            "Hello, this is the 1300 social assistance hotline, 24 hours a day. Tell us what is happening, or tap "
            "a button below.")
WELCOME = "สายด่วน 1300 ยินดีช่วยเหลือค่ะ · The 1300 hotline is here to help."
ASK_CATEGORY = "เกิดเรื่องอะไรขึ้นคะ? เลือกเรื่องที่ใกล้เคียงที่สุด\nWhat is happening? Choose the closest."
ASK_TARGET = "ใครได้รับผลกระทบคะ?\nWho is affected?"
ASK_PLACE = ("เกิดเหตุที่ไหนคะ? กด ส่งตำแหน่ง หรือพิมพ์ชื่อตำบล/แขวง กับอำเภอ/เขต\n"
             "Where? Share a location, or type the sub-district and district.")
PLACE_CHOICES = ("มีหลายแห่งที่ใช้ชื่อนี้ค่ะ เลือกแห่งที่ใช่ หรือพิมพ์อำเภอ/จังหวัดเพิ่ม\n"
                 "Several places have this name: choose one, or add the district or province.")
PLACE_UNKNOWN = ("ไม่พบชื่อสถานที่นี้ค่ะ ลองพิมพ์ชื่อตำบลกับอำเภอ เช่น “สันกลาง พาน” หรือกด ส่งตำแหน่ง\n"
                 "Place not found: type the sub-district and district, or share a location.")
OUTSIDE_THAILAND = ("ตำแหน่งนี้อยู่นอกประเทศไทยค่ะ ส่งตำแหน่งอีกครั้ง หรือพิมพ์ชื่อตำบล\n"
                    "That location is outside Thailand: share another, or type the sub-district.")
ASK_SAFETY = ("ติดต่อกลับแบบไหนจึงปลอดภัยสำหรับคุณคะ? เลือกได้หลายข้อ แล้วกด ต่อไป\n"
              "How can we contact you safely? Choose any, then Next.")
SAFETY_MORE = "รับทราบค่ะ: {chosen}\nเลือกเพิ่มได้ หรือกด ต่อไป · Choose more, or Next."
CONFIRM = ("ตรวจสอบก่อนส่งเรื่องค่ะ\nเรื่อง: {category}\nผู้ได้รับผลกระทบ: {target}\nสถานที่: {place}\n"
           "การติดต่อ: {safety}{urgent}\nส่งเรื่องให้เจ้าหน้าที่เลยไหมคะ? · Send this report?")
URGENT_LINE = "\nความเร่งด่วน: ด่วนที่สุด"
NO_PREFERENCE = "ไม่ได้ระบุ"
CANCELLED = ("ยกเลิกแล้วค่ะ ถ้าต้องการแจ้งใหม่ พิมพ์มาได้ตลอดเวลา หรือโทร 1300\n"
             "Cancelled. Write to us any time, or call 1300.")
REPORTED = ("รับเรื่องแล้วค่ะ เลขที่ {number}\n"
            "เรื่องถูกส่งถึงศูนย์ช่วยเหลือสังคมในพื้นที่แล้ว เจ้าหน้าที่จะติดต่อกลับ{how}\n"
            "ข้อความที่พิมพ์ต่อจากนี้จะเพิ่มเข้าไปในเรื่องนี้ ถ้ามีอันตรายตอนนี้ โทร 191 หรือ 1669\n"
            "Received: case {number}. The local social assistance center has it and will contact you{how_en}. "
            "What you write here is added to it.")
ADDED = "ได้รับแล้ว เพิ่มในเรื่อง {number} ค่ะ · Added to case {number}."
# Everything the bot says after a silent SOS: nothing an abuser reading the chat would notice.
BLAND = "ได้รับแล้ว ขอบคุณค่ะ"
SOS_PROMPT = "แตะ 📍 ด้านล่างค่ะ"
DANGER = ("ถ้ามีอันตรายตอนนี้ โทร 191 (ตำรวจ) หรือ 1669 (เจ็บป่วยฉุกเฉิน) ได้ทันที "
          "สายด่วน 1300 รับสายตลอด 24 ชั่วโมง เราจะส่งเรื่องของคุณเป็นเรื่องด่วนค่ะ\n"
          "In danger now? Call 191 (police) or 1669 (medical emergency); the 1300 hotline answers 24 hours. "
          "Your report is marked urgent.")
MEDIA_RECEIVED = "ได้รับ{kind}แล้วค่ะ · Received."
MEDIA_TH = {"image": "รูปภาพ", "video": "วิดีโอ", "audio": "ข้อความเสียง", "file": "ไฟล์"}
TROUBLE = ("ขออภัยค่ะ ระบบขัดข้องชั่วคราว ข้อความของคุณถูกเก็บไว้แล้ว ถ้าเร่งด่วนโทร 1300\n"
           "Sorry, a technical problem: your message is kept. If it is urgent, call 1300.")

SAFETY_CHOICES: tuple[str, ...] = ("line_only", "no_callback", "woman_officer")


def safety_th(flag: str) -> str:
    """The Thai words of one safety preference, as every responder reads them (labels.safety)."""
    return labels.safety(Safety(**{flag: True}))[0][0]


def category_buttons() -> list[Button]:
    return [postback(th, f"cat={c.value}") for c, (th, _) in labels.CATEGORY.items()]


def target_buttons() -> list[Button]:
    return [postback(th, f"tg={t.value}") for t, (th, _) in labels.TARGET_GROUP.items()]


def safety_buttons(chosen: Safety) -> list[Button]:
    flags = [f for f in SAFETY_CHOICES if not getattr(chosen, f)]
    return [*(postback(safety_th(f), f"safe={f}") for f in flags), postback("ต่อไป · Next", "safe=done", "ต่อไป")]


def confirm_buttons() -> list[Button]:
    return [postback("ส่งเรื่อง · Send", "confirm=yes", "ส่งเรื่อง"),
            postback("แก้สถานที่ · Place", "edit=place", "แก้สถานที่"),
            postback("ยกเลิก · Cancel", "confirm=no", "ยกเลิก"), SOS]


def category_th(category: Category | None) -> str:
    return labels.th(labels.CATEGORY, category) if category else "-"


def target_th(group: TargetGroup | None) -> str:
    return labels.th(labels.TARGET_GROUP, group) if group else "-"
