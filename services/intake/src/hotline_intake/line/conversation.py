"""The LINE conversation as a pure state machine: (state, what the person did) → (new state, replies, actions).
No I/O — the inbox worker loads the state, runs `step`, carries out the actions and sends the replies.

The flow collects what a case needs, asking only for what is still missing, in this order:
  category → target group → place (a location, or a typed sub-district; an ambiguous name offers the matches)
  → how to contact safely (LINE only / do not call back / a woman officer; several, then Next) → confirm.
"Send" asks the worker to create the case (`CreateCase`); it answers with `CaseCreated` and the bot replies with the
case number. While the case is open, later messages become notes on it (`AddNote`).
Danger words (DANGER_WORDS) at any point mark the draft urgent (P1) and the 1300 / 191 / 1669 numbers come first;
on an open case they raise it to P1 (`RaiseUrgency`).
The silent SOS (the "📍" button) asks only for a location and creates a P1 case with it at once, with every answer
bland (`messages.BLAND`); see `silent_case` for the defaults it assumes.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hotline_common import labels
from hotline_common.events import Category, Channel, Priority, Safety, TargetGroup
from hotline_gazetteer import Gazetteer, Tambon, gazetteer
from hotline_intake.cases import CaseIn, LocationIn
from hotline_intake.line import messages as m
from hotline_intake.line.incoming import Follow, Ignored, Incoming, Location, Media, Postback, Text, Unfollow

# Words that mean someone may be in danger now. Thai is written without spaces, so they are found inside longer
# text; a few false alarms ("ไม่อันตราย") are the price of never missing "ช่วยด้วย". Keep the list short and literal.
DANGER_WORDS: tuple[str, ...] = (
    "ด่วน",  # urgent
    "ช่วยด้วย",  # help!
    "จะฆ่า",  # (someone) will kill
    "ฆ่าตัวตาย",  # suicide
    "อยากตาย",  # I want to die
    "ไม่อยากมีชีวิต",  # I don't want to live
    "ทำร้าย",  # hurt, assault
    "ทุบตี",  # beating
    "ข่มขืน",  # rape
    "ล่วงละเมิด",  # abuse, molestation
    "ลักพาตัว",  # abduction
    "กักขัง",  # confinement
    "มีปืน",  # has a gun
    "มีมีด",  # has a knife
    "อันตราย",  # danger
    "sos",
    "help",
)
# Leaves the silent SOS (the only way out besides sending a location) for someone who tapped it by mistake.
SOS_CANCEL = ("ยกเลิก", "cancel")
WORDS_MAX = 7000  # what a draft keeps of the person's words (a case description holds 8000)
PLACE_TEXT_MAX = 300
CHOICES_MAX = 11  # ambiguous places offered, leaving room for "share a location" under LINE's 13 buttons
ACCEPT_CONFIDENCE = 0.5  # a sub-district named alone resolves at 0.65; several matches are offered instead
SILENT_CATEGORY = Category.domestic_violence  # a silent SOS is, most often, someone whose abuser is near
SILENT_TARGET = TargetGroup.general  # nothing is known of who the person is
SILENT_DESCRIPTION = "แจ้งเหตุเงียบทาง LINE: ผู้แจ้งส่งตำแหน่งโดยไม่ได้พิมพ์ข้อความ (silent SOS: a location only)"

CATEGORIES = frozenset(c.value for c in Category)
TARGET_GROUPS = frozenset(t.value for t in TargetGroup)

Question = Literal["category", "target_group", "place", "safety", "confirm", "sos"]


class Place(BaseModel):
    model_config = ConfigDict(frozen=True)

    tambon_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    text: str | None = None  # the person's words for it, or LINE's address of a shared location
    label: str  # as the bot says it back: ต.สันกลาง › อ.พาน › จ.เชียงราย


class Draft(BaseModel):
    """The report being collected."""

    model_config = ConfigDict(frozen=True)

    category: Category | None = None
    target_group: TargetGroup | None = None
    place: Place | None = None
    choices: tuple[str, ...] = ()  # sub-district codes offered for an ambiguous name
    place_words: str | None = None  # the ambiguous name as typed: the chosen place keeps it
    safety: Safety = Safety()
    safety_done: bool = False
    urgent: bool = False
    words: tuple[str, ...] = ()
    media: tuple[str, ...] = ()  # "image:<LINE message id>": the fact that something was sent, not its content


class State(BaseModel):
    """One LINE user's conversation; stored sealed (it holds their words)."""

    model_config = ConfigDict(frozen=True)

    greeted: bool = False
    asked: Question | None = None
    draft: Draft | None = None
    case_id: uuid.UUID | None = None
    case_number: str | None = None
    silent: bool = False  # the open case is a silent SOS: every answer stays bland

    def case_closed(self) -> State:
        """The open case was resolved: later messages start a new report."""
        return self.model_copy(update={"case_id": None, "case_number": None, "silent": False})


@dataclass(frozen=True, slots=True)
class CaseCreated:
    """The worker's answer to `CreateCase`."""

    case_id: uuid.UUID
    case_number: str
    silent: bool


@dataclass(frozen=True, slots=True)
class CreateCase:
    body: CaseIn
    silent: bool


@dataclass(frozen=True, slots=True)
class AddNote:
    text: str


@dataclass(frozen=True, slots=True)
class RaiseUrgency:
    """A danger word about the open case: it becomes P1 (routing and notify act on it), not only a note."""


Action = CreateCase | AddNote | RaiseUrgency


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    replies: tuple[m.Reply, ...] = ()
    actions: tuple[Action, ...] = field(default_factory=tuple)


def step(state: State, event: Incoming | CaseCreated, places: Gazetteer | None = None) -> Step:
    """The next state, what to say and what to do, for one thing the person did."""
    places = places or gazetteer()
    event = _cleaned(event)
    if isinstance(event, Follow):
        if state.silent and state.case_id is not None:  # unblocked during a silent SOS: still nothing to see
            return Step(state.model_copy(update={"greeted": True}), (m.say(m.BLAND),))
        return Step(state.model_copy(update={"greeted": True}), (m.say(m.GREETING, [m.START, m.SOS, m.CALL_1300]),))
    if isinstance(event, Unfollow):
        # Blocked: forget the draft (their words); the open case keeps its notes.
        return Step(State(case_id=state.case_id, case_number=state.case_number, silent=state.silent))
    if isinstance(event, Ignored):
        return Step(state)
    if isinstance(event, CaseCreated):
        new = State(greeted=True, case_id=event.case_id, case_number=event.case_number, silent=event.silent)
        if event.silent:
            return Step(new, (m.say(m.BLAND),))
        safety = state.draft.safety if state.draft else Safety()
        how, how_en = (" ทาง LINE นี้", " here on LINE") if safety.line_only else ("", "")
        return Step(new, (m.say(m.REPORTED.format(number=event.case_number, how=how, how_en=how_en),
                                [m.NEW_REPORT, m.SOS, m.CALL_1300]),))
    if isinstance(event, Postback) and event.data == "sos":
        sos = state.model_copy(update={"asked": "sos", "draft": state.draft or Draft(), "greeted": True})
        return Step(sos, (m.say(m.SOS_PROMPT, [m.SOS_LOCATION]),))
    if state.asked == "sos":
        return _silent(state, event, places)
    starting = isinstance(event, Postback) and event.data == "start"
    if state.draft is None and state.case_id is not None and not starting:
        return _add_to_case(state, event)
    return _collect(state, event, places)


# -- the report being collected ---------------------------------------------------------------------------------
def _collect(state: State, event: Text | Location | Media | Postback, places: Gazetteer) -> Step:
    draft = state.draft or Draft()
    before: list[m.Reply] = []
    if isinstance(event, Text) and is_danger(event.text):  # the numbers first, before anything else
        draft = draft.model_copy(update={"urgent": True})
        before.append(m.say(m.DANGER))
    elif not state.greeted:
        before.append(m.say(m.WELCOME))
    asked = state.asked
    if isinstance(event, Text):
        draft, said = _text(draft, asked, event.text, places)
        if said is not None:
            return _ask(state, draft, [*before, said], asked="place")
    elif isinstance(event, Location):
        place = _position(event, places)
        if place is None:
            return _ask(state, draft, [*before, m.say(m.OUTSIDE_THAILAND, [m.SEND_LOCATION])], asked="place")
        draft = draft.model_copy(update={"place": place, "choices": ()})
    elif isinstance(event, Media):
        draft = draft.model_copy(update={"media": (*draft.media, f"{event.kind}:{event.message_id}")})
        before.append(m.say(m.MEDIA_RECEIVED.format(kind=m.MEDIA_TH.get(event.kind, "ข้อความ"))))
    else:
        outcome = _postback(state, draft, event.data, places)
        if isinstance(outcome, Step):
            return outcome
        draft = outcome
    return _next(state, draft, before)


def _text(draft: Draft, asked: Question | None, text: str, places: Gazetteer) -> tuple[Draft, m.Reply | None]:
    """A typed message: the place when the place was asked (or a choice among matches), else the person's words."""
    if asked != "place":
        return _with_words(draft, text), None
    tambon, matches = find_place(text, places)
    if tambon is not None:
        return draft.model_copy(update={"place": _tambon_place(tambon, text), "choices": ()}), None
    if matches:
        draft = draft.model_copy(update={"choices": tuple(t.code for t in matches), "place_words": text})
        return draft, m.say(m.PLACE_CHOICES, [*(_place_button(t) for t in matches), m.SEND_LOCATION])
    # Not a place: perhaps more of their story.
    return _with_words(draft, text), m.say(m.PLACE_UNKNOWN, [m.SEND_LOCATION])


def _postback(state: State, draft: Draft, data: str, places: Gazetteer) -> Draft | Step:
    key, _, value = data.partition("=")
    if key == "cat" and value in CATEGORIES:
        return draft.model_copy(update={"category": Category(value)})
    if key == "tg" and value in TARGET_GROUPS:
        return draft.model_copy(update={"target_group": TargetGroup(value)})
    if key == "place" and (tambon := places.tambon(value)) is not None:
        return draft.model_copy(update={"place": _tambon_place(tambon, draft.place_words), "choices": ()})
    if key == "edit" and value == "place":
        return draft.model_copy(update={"place": None, "choices": ()})
    if key == "safe" and value == "done":
        return draft.model_copy(update={"safety_done": True})
    if key == "safe" and value in m.SAFETY_CHOICES:
        draft = draft.model_copy(update={"safety": draft.safety.model_copy(update={value: True})})
        chosen = ", ".join(m.safety_th(f) for f in m.SAFETY_CHOICES if getattr(draft.safety, f))
        more = m.say(m.SAFETY_MORE.format(chosen=chosen), [*m.safety_buttons(draft.safety), m.SOS])
        return Step(state.model_copy(update={"draft": draft, "asked": "safety", "greeted": True}), (more,))
    if key == "confirm" and value == "no":
        return Step(State(greeted=True, case_id=state.case_id, case_number=state.case_number, silent=state.silent),
                    (m.say(m.CANCELLED, [m.START, m.CALL_1300]),))
    if key == "confirm" and value == "yes" and state.asked == "confirm" and _missing(draft) == "confirm":
        body = report_of(draft)
        return Step(state.model_copy(update={"draft": draft}), actions=(CreateCase(body, silent=False),))
    return draft  # "start", or a stale button: carry on where we were


def _next(state: State, draft: Draft, before: list[m.Reply]) -> Step:
    asked = _missing(draft)
    if asked == "category":
        question = m.say(m.ASK_CATEGORY, m.category_buttons())  # all 13: no room for the SOS button here
    elif asked == "target_group":
        question = m.say(m.ASK_TARGET, [*m.target_buttons(), m.SOS])
    elif asked == "place":
        question = m.say(m.ASK_PLACE, [m.SEND_LOCATION])
    elif asked == "safety":
        question = m.say(m.ASK_SAFETY, [*m.safety_buttons(draft.safety), m.SOS])
    else:
        question = m.say(_summary(draft), m.confirm_buttons())
    return _ask(state, draft, [*before, question], asked=asked)


def _ask(state: State, draft: Draft, replies: list[m.Reply], *, asked: Question) -> Step:
    return Step(state.model_copy(update={"draft": draft, "asked": asked, "greeted": True}), tuple(replies))


def _missing(draft: Draft) -> Question:
    if draft.category is None:
        return "category"
    if draft.target_group is None:
        return "target_group"
    if draft.place is None:
        return "place"
    if not draft.safety_done:
        return "safety"
    return "confirm"


def _summary(draft: Draft) -> str:
    chosen = [th for th, _ in labels.safety(draft.safety)]
    return m.CONFIRM.format(category=m.category_th(draft.category), target=m.target_th(draft.target_group),
                            place=draft.place.label if draft.place else "-",
                            safety=", ".join(chosen) or m.NO_PREFERENCE, urgent=m.URGENT_LINE if draft.urgent else "")


# -- after the report -------------------------------------------------------------------------------------------
def _add_to_case(state: State, event: Text | Location | Media | Postback) -> Step:
    """A later message while the case is open: a note on it, and a short acknowledgement."""
    if isinstance(event, Postback):
        return Step(state)  # a stale button of the finished report
    danger = isinstance(event, Text) and is_danger(event.text)
    if isinstance(event, Text):
        note = f"[ด่วน · urgent: คำที่บ่งว่ามีอันตราย] {event.text}" if danger else event.text
    elif isinstance(event, Location):
        note = f"ผู้แจ้งส่งตำแหน่งเพิ่ม · a location: {event.lat:.6f}, {event.lon:.6f}"
        if event.address:
            note += f" ({event.address})"
    else:
        note = (f"ผู้แจ้งส่ง{m.MEDIA_TH.get(event.kind, event.kind)}ทาง LINE (ไม่ได้ดาวน์โหลดเนื้อหา) · "
                f"sent a {event.kind}, not downloaded; LINE message id {event.message_id}")
    actions: tuple[Action, ...] = (AddNote(note), RaiseUrgency()) if danger else (AddNote(note),)
    if state.silent:
        return Step(state, (m.say(m.BLAND),), actions)
    added = m.say(m.ADDED.format(number=state.case_number), [m.NEW_REPORT, m.SOS, m.CALL_1300])
    replies = (m.say(m.DANGER), added) if danger else (added,)
    return Step(state, replies, actions)


# -- the silent SOS ---------------------------------------------------------------------------------------------
def _silent(state: State, event: Text | Location | Media | Postback, places: Gazetteer) -> Step:
    draft = state.draft or Draft()
    prompt = (m.say(m.SOS_PROMPT, [m.SOS_LOCATION]),)
    if isinstance(event, Location):
        place = _position(event, places)
        if place is None:
            return Step(state, prompt)
        return Step(state, actions=(CreateCase(silent_case(draft, place), silent=True),))
    if isinstance(event, Text):
        if _normal(event.text) in SOS_CANCEL:
            return _next(state.model_copy(update={"asked": None}), draft, [])
        draft = _with_words(draft, event.text)
        tambon, _ = find_place(event.text, places)
        if tambon is not None:
            return Step(state.model_copy(update={"draft": draft}),
                        actions=(CreateCase(silent_case(draft, _tambon_place(tambon, event.text)), silent=True),))
    elif isinstance(event, Media):
        draft = draft.model_copy(update={"media": (*draft.media, f"{event.kind}:{event.message_id}")})
    return Step(state.model_copy(update={"draft": draft}), prompt)


def silent_case(draft: Draft, place: Place) -> CaseIn:
    """A silent SOS: P1 at once, contact by LINE only and never a call, the place shared; what the draft had
    collected is kept, and what it had not is assumed (SILENT_CATEGORY, SILENT_TARGET)."""
    safety = Safety(silent=True, line_only=True, no_callback=True, woman_officer=draft.safety.woman_officer)
    return report_of(draft.model_copy(update={
        "category": draft.category or SILENT_CATEGORY, "target_group": draft.target_group or SILENT_TARGET,
        "place": place, "safety": safety, "urgent": True}), default=SILENT_DESCRIPTION)


# -- pieces -----------------------------------------------------------------------------------------------------
def report_of(draft: Draft, *, default: str | None = None) -> CaseIn:
    """The case a complete draft reports (channel LINE; no caller: the LINE user id is kept sealed by intake)."""
    assert draft.category is not None and draft.target_group is not None and draft.place is not None
    words = "\n".join(plain(w) for w in draft.words).strip()
    if not words:
        words = default or (f"แจ้งทาง LINE (เลือกจากปุ่ม): {m.category_th(draft.category)}, "
                            f"{m.target_th(draft.target_group)}")
    if draft.media:
        kinds = ", ".join(sorted({m.MEDIA_TH.get(x.split(':')[0], 'ไฟล์') for x in draft.media}))
        words += f"\n(ผู้แจ้งส่ง{kinds}ทาง LINE {len(draft.media)} รายการ ไม่ได้ดาวน์โหลดเนื้อหา)"
    place = draft.place
    text = plain(place.text or "").strip()[:PLACE_TEXT_MAX]
    return CaseIn(channel=Channel.line, category=draft.category, target_group=draft.target_group,
                  description=words[:8000], urgency=Priority.P1 if draft.urgent else None, safety=draft.safety,
                  location=LocationIn(tambon_code=place.tambon_code, lat=place.lat, lon=place.lon,
                                      text=text if len(text) >= 2 else None))


def find_place(text: str, places: Gazetteer) -> tuple[Tambon | None, list[Tambon]]:
    """The one sub-district a typed name means, or the candidates when several fit (best first)."""
    resolution = places.resolve(plain(text)[:PLACE_TEXT_MAX])
    candidates = [c.tambon for c in resolution.candidates]
    if resolution.tambon is not None and len(candidates) <= 1 and resolution.confidence >= ACCEPT_CONFIDENCE:
        return resolution.tambon, []
    return None, candidates[:CHOICES_MAX]


def is_danger(text: str) -> bool:
    normal = _normal(text)
    return any(word in normal for word in DANGER_WORDS)


def plain(text: str) -> str:
    """The person's words as a case and a sealed note can hold them: control characters (a case refuses them) become
    spaces, line breaks and tabs kept; a lone surrogate (JSON can carry one, UTF-8 cannot) becomes U+FFFD."""
    return "".join(_plain_char(ch) for ch in text)


def _plain_char(ch: str) -> str:
    kind = unicodedata.category(ch)
    if kind == "Cc" and ch not in "\t\n\r":
        return " "
    return "\ufffd" if kind == "Cs" else ch


def _cleaned(event: Incoming | CaseCreated) -> Incoming | CaseCreated:
    if isinstance(event, Text):
        return Text(plain(event.text))
    if isinstance(event, Location) and event.address is not None:
        return Location(event.lat, event.lon, plain(event.address))
    if isinstance(event, Media):
        return Media(plain(event.kind), plain(event.message_id))
    if isinstance(event, Postback):
        return Postback(plain(event.data))
    return event


def _normal(text: str) -> str:
    return "".join(ch for ch in text.casefold() if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _with_words(draft: Draft, text: str) -> Draft:
    room = WORDS_MAX - sum(len(w) + 1 for w in draft.words)
    if room <= 0 or not text.strip():
        return draft
    return draft.model_copy(update={"words": (*draft.words, text[:room])})


def _position(event: Location, places: Gazetteer) -> Place | None:
    near = places.nearest(event.lat, event.lon)
    if near is None:
        return None
    return Place(lat=event.lat, lon=event.lon, text=event.address, label=f"ตำแหน่งที่ส่งมา ใกล้ {near[0].path_th()}")


def _tambon_place(tambon: Tambon, text: str | None) -> Place:
    return Place(tambon_code=tambon.code, text=text, label=tambon.path_th())


def _place_button(tambon: Tambon) -> m.Button:
    district = "เขต" if tambon.is_bangkok else "อ."
    return m.postback(f"{tambon.name_th} {district}{tambon.amphoe_name_th}", f"place={tambon.code}",
                      tambon.path_th())
