"""LINE message objects checked as the Messaging API reference states: limits, how characters count, error details.

Sources: https://developers.line.biz/en/reference/messaging-api/#message-objects (limits per property) and
https://developers.line.biz/en/docs/messaging-api/text-character-count/ — text counts in UTF-16 code units, except
action labels, postback/message action texts and the text and title of buttons, confirm and carousel templates,
which count in grapheme clusters. Each problem is `(property, message)`, as in LINE's `details[]`.

Grapheme clusters are counted conservatively (never fewer than LINE counts): a combining mark (Thai vowel and tone
marks above and below are category Mn) joins the character before it; spacing marks such as SARA AM count on their
own, as in the legacy clusters some platforms still use. An adapter that passes this fake passes LINE either way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

Problem = tuple[str, str]

ZWJ = "\u200d"
MESSAGE_TYPES = ("text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex")
TEMPLATE_TYPES = ("buttons", "confirm", "carousel", "image_carousel")
ACTION_TYPES = ("postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location",
                "richmenuswitch", "clipboard")
URI_SCHEMES = ("http://", "https://", "line://", "tel:")
# "This action can be configured only with quick reply buttons" (camera, camera roll, location).
QUICK_REPLY_ONLY_ACTIONS = ("camera", "cameraRoll", "location")
QUICK_REPLY_ACTIONS = tuple(a for a in ACTION_TYPES if a != "richmenuswitch")  # a rich menu's own


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clusters(text: str) -> list[str]:
    out: list[str] = []
    after_zwj = False
    for ch in text:
        joins = (unicodedata.category(ch) in ("Mn", "Me") or ch == ZWJ or after_zwj
                 or 0x1F3FB <= ord(ch) <= 0x1F3FF or (ch == "\n" and out[-1:] == ["\r"]))
        if out and joins:
            out[-1] += ch
        else:
            out.append(ch)
        after_zwj = ch == ZWJ
    return out


def grapheme_len(text: str) -> int:
    return len(clusters(text))


class _Check:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, prop: str, message: str) -> None:
        self.problems.append((prop, message))

    def text(self, obj: dict[str, Any], key: str, prop: str, *, max_len: int, required: bool = True,
             count: Callable[[str], int] = utf16_len) -> str | None:
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None or value == "":
            if required:
                self.add(where, "May not be empty")
            return None
        if not isinstance(value, str):
            self.add(where, "Must be a string")
            return None
        if count(value) > max_len:
            self.add(where, f"Length must be between 0 and {max_len}")
        return value

    def url(self, obj: dict[str, Any], key: str, prop: str, *, max_len: int, required: bool = True,
            schemes: tuple[str, ...] = ("https://",)) -> None:
        value = self.text(obj, key, prop, max_len=max_len, required=required)
        if value is not None and not value.startswith(schemes):
            self.add(f"{prop}.{key}", "Must be a valid URI with scheme " + ", ".join(s.rstrip(":/") for s in schemes))

    def array(self, obj: dict[str, Any], key: str, prop: str, *, min_items: int, max_items: int) -> list[Any]:
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None:
            self.add(where, "May not be empty")
            return []
        if not isinstance(value, list):
            self.add(where, "Must be an array")
            return []
        if not min_items <= len(value) <= max_items:
            self.add(where, f"Size must be between {min_items} and {max_items}")
        return value

    def obj(self, value: Any, prop: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(prop, "May not be empty" if value is None else "Must be an object")
            return None
        return value

    def one_of(self, obj: dict[str, Any], key: str, prop: str, values: tuple[str, ...]) -> str | None:
        value = obj.get(key)
        if value not in values:
            self.add(f"{prop}.{key}", f"Must be one of the following values: [{', '.join(values)}]")
            return None
        return str(value)


def check_messages(messages: Any, prop: str = "messages") -> list[Problem]:
    """Problems of a request's `messages` (1 to 5 message objects)."""
    check = _Check()
    if messages is None:
        check.add(prop, "May not be empty")
    elif not isinstance(messages, list):
        check.add(prop, "Must be an array")
    else:
        if not 1 <= len(messages) <= 5:
            check.add(prop, "Size must be between 1 and 5")
        for i, message in enumerate(messages):
            _message(check, message, f"{prop}[{i}]")
    return check.problems


def _message(check: _Check, value: Any, prop: str) -> None:
    m = check.obj(value, prop)
    if m is None:
        return
    kind = check.one_of(m, "type", prop, MESSAGE_TYPES)
    if kind in ("text", "textV2"):
        check.text(m, "text", prop, max_len=5000)
    elif kind == "template":
        check.text(m, "altText", prop, max_len=400)
        template = check.obj(m.get("template"), f"{prop}.template")
        if template is not None:
            _template(check, template, f"{prop}.template")
    elif kind == "sticker":
        check.text(m, "packageId", prop, max_len=100)
        check.text(m, "stickerId", prop, max_len=100)
    elif kind in ("image", "video"):
        check.url(m, "originalContentUrl", prop, max_len=2000)
        check.url(m, "previewImageUrl", prop, max_len=2000)
    elif kind == "audio":
        check.url(m, "originalContentUrl", prop, max_len=2000)
    elif kind == "location":
        check.text(m, "title", prop, max_len=100)
        check.text(m, "address", prop, max_len=100)
    elif kind in ("imagemap", "flex"):
        check.text(m, "altText", prop, max_len=400)
    quick_reply = m.get("quickReply")
    if quick_reply is not None and (qr := check.obj(quick_reply, f"{prop}.quickReply")) is not None:
        for i, item in enumerate(check.array(qr, "items", f"{prop}.quickReply", min_items=1, max_items=13)):
            if (it := check.obj(item, f"{prop}.quickReply.items[{i}]")) is not None:
                _quick_reply_item(check, it, f"{prop}.quickReply.items[{i}]")


def _quick_reply_item(check: _Check, item: dict[str, Any], prop: str) -> None:
    """https://developers.line.biz/en/reference/messaging-api/#items-object: `type` "action", an optional https
    `imageUrl` (≤ 2000), and an action of the kinds a quick reply button may carry (every kind but a rich menu
    switch), its label required and at most 20 characters."""
    check.one_of(item, "type", prop, ("action",))
    if item.get("imageUrl") is not None:
        check.url(item, "imageUrl", prop, max_len=2000)
    action = item.get("action")
    if isinstance(action, dict) and action.get("type") == "richmenuswitch":
        check.add(f"{prop}.action.type", f"Must be one of the following values: [{', '.join(QUICK_REPLY_ACTIONS)}]")
    _action(check, action, f"{prop}.action")


def _template(check: _Check, t: dict[str, Any], prop: str) -> None:
    kind = check.one_of(t, "type", prop, TEMPLATE_TYPES)
    if kind == "buttons":
        has_title = bool(t.get("title"))
        check.text(t, "title", prop, max_len=40, required=False, count=grapheme_len)
        if t.get("thumbnailImageUrl") is not None:
            check.url(t, "thumbnailImageUrl", prop, max_len=2000)
        limit = 60 if has_title or t.get("thumbnailImageUrl") else 160
        check.text(t, "text", prop, max_len=limit, count=grapheme_len)
        _actions(check, t, prop, max_actions=4)
    elif kind == "confirm":
        check.text(t, "text", prop, max_len=240, count=grapheme_len)
        _actions(check, t, prop, max_actions=2, min_actions=2)
    elif kind == "carousel":
        _carousel(check, t, prop)
    elif kind == "image_carousel":
        for i, value in enumerate(check.array(t, "columns", prop, min_items=1, max_items=10)):
            if (column := check.obj(value, f"{prop}.columns[{i}]")) is not None:
                check.url(column, "imageUrl", f"{prop}.columns[{i}]", max_len=2000)
                _action(check, column.get("action"), f"{prop}.columns[{i}].action", label_max=12,
                        label_required=False)


def _carousel(check: _Check, t: dict[str, Any], prop: str) -> None:
    shapes: list[tuple[int, bool, bool]] = []
    for i, value in enumerate(check.array(t, "columns", prop, min_items=1, max_items=10)):
        where = f"{prop}.columns[{i}]"
        column = check.obj(value, where)
        if column is None:
            continue
        has_title, has_image = bool(column.get("title")), bool(column.get("thumbnailImageUrl"))
        check.text(column, "title", where, max_len=40, required=False, count=grapheme_len)
        if has_image:
            check.url(column, "thumbnailImageUrl", where, max_len=2000)
        check.text(column, "text", where, max_len=60 if has_title or has_image else 120, count=grapheme_len)
        actions = _actions(check, column, where, max_actions=3)
        # "Keep the number of actions consistent for all columns. If you use an image or title for a column,
        # make sure to do the same for all other columns."
        shape = (len(actions), has_title, has_image)
        if shapes and shape[0] != shapes[0][0]:
            check.add(f"{where}.actions", "Must have the same number of actions as the other columns")
        if shapes and shape[1:] != shapes[0][1:]:
            check.add(where, "Must have a title and an image if and only if the other columns do")
        shapes.append(shape)


def _actions(check: _Check, obj: dict[str, Any], prop: str, *, max_actions: int, min_actions: int = 1) -> list[Any]:
    actions = check.array(obj, "actions", prop, min_items=min_actions, max_items=max_actions)
    for i, action in enumerate(actions):
        if isinstance(action, dict) and action.get("type") in QUICK_REPLY_ONLY_ACTIONS:
            check.add(f"{prop}.actions[{i}].type", f"{action['type']} actions work only in quick reply buttons")
        _action(check, action, f"{prop}.actions[{i}]")
    if obj.get("defaultAction") is not None:
        _action(check, obj["defaultAction"], f"{prop}.defaultAction", label_required=False)
    return actions


def _action(check: _Check, value: Any, prop: str, *, label_max: int = 20, label_required: bool = True) -> None:
    a = check.obj(value, prop)
    if a is None:
        return
    kind = check.one_of(a, "type", prop, ACTION_TYPES)
    check.text(a, "label", prop, max_len=label_max, required=label_required, count=grapheme_len)
    if kind == "postback":
        check.text(a, "data", prop, max_len=300)
        check.text(a, "displayText", prop, max_len=300, required=False, count=grapheme_len)
        check.text(a, "text", prop, max_len=300, required=False, count=grapheme_len)
        check.text(a, "fillInText", prop, max_len=300, required=False, count=grapheme_len)
        if a.get("displayText") and a.get("text"):
            check.add(f"{prop}.text", "displayText and text cannot both be set")
    elif kind == "message":
        check.text(a, "text", prop, max_len=300, count=grapheme_len)
    elif kind == "uri":
        check.url(a, "uri", prop, max_len=1000, schemes=URI_SCHEMES)
    elif kind == "datetimepicker":
        check.text(a, "data", prop, max_len=300)
        check.one_of(a, "mode", prop, ("date", "time", "datetime"))
    elif kind == "clipboard":
        check.text(a, "clipboardText", prop, max_len=1000)
