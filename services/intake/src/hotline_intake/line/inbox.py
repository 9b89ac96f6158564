"""The LINE inbox worker: handles what the webhook kept, per user and in order, and sends the bot's answers.

Each pass takes the users with a message their rate allows (INTAKE_LINE_USER_MESSAGES per
INTAKE_LINE_USER_WINDOW_SECONDS; a faster sender's messages wait, in order, and are never dropped) or a reply due.
A user is served under a PostgreSQL advisory lock, so two intake replicas never handle one user's messages at once.
One message: load the sealed conversation, run the pure `conversation.step`, create the case (`service.report`,
with a case id derived from the webhook event id, so a retry after a crash finds it instead of reporting twice), then
at once (one transaction, or one statement when there are no notes) add the notes, save the conversation, queue
the replies and mark the message handled. A message that fails is tried again on a later pass; the user's later
messages wait for it. Replies go out after that commit, in order; one that fails is retried with backoff (push,
with a retry key).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import timedelta

import asyncpg
from pydantic import ValidationError

from hotline_common.crypto import PiiVault
from hotline_common.deadletter import TRANSIENT
from hotline_common.events import Channel, Priority
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime, Worker
from hotline_gazetteer import gazetteer
from hotline_intake import service
from hotline_intake.config import IntakeSettings
from hotline_intake.line import conversation, repository
from hotline_intake.line import messages as m
from hotline_intake.line.conversation import AddNote, CaseCreated, CreateCase, RaiseUrgency, State
from hotline_intake.line.incoming import incoming
from hotline_intake.line.replies import LineReplies

log = logging.getLogger("hotline.intake.line")
IDLE_POLL_SECONDS = 1.0  # another replica's webhook may have kept a message, or a throttled user's turn come
EVENTS_PER_TURN = 10  # a user with a backlog yields their slot now and then
ATTEMPTS_MAX = 5  # a message failing this often is set aside (sealed, for the ops team) and the person told
REPLY_ATTEMPTS_MAX = 60  # about an hour of retries at the backoff's cap
REPLY_BACKOFF_CAP = 60.0
CASE_IDS = uuid.UUID("5e1c7a55-1300-4c1e-9e5e-11a1e0000001")  # namespace: case id from a webhook event id


class LineInbox(Worker):
    name = "line-inbox"

    def __init__(self, runtime: Runtime, vault: PiiVault, settings: IntakeSettings) -> None:
        super().__init__()
        self.runtime, self.vault, self.settings = runtime, vault, settings
        self.replies = LineReplies(settings.line_api_base_url, settings.line_channel_access_token
                                   .get_secret_value(), settings.line_timeout_seconds)

    async def stop(self) -> None:
        await super().stop()
        await self.replies.close()

    async def _run(self) -> None:
        # The place-name index takes a fraction of a second to build: not on the first person's message.
        await asyncio.to_thread(lambda: gazetteer().index)
        while True:
            try:
                self._wake.clear()  # before looking: a wake during the pass is not lost
                if await self.work_once():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LINE inbox paused: %r", exc)
                await asyncio.sleep(1.0)

    async def work_once(self) -> int:
        """One pass over the users with work; returns how many messages were handled and replies sent."""
        concurrency = self.settings.line_concurrency
        async with self.runtime.db.acquire() as conn:
            users = await repository.users_with_work(
                conn, window_seconds=self.settings.line_user_window_seconds,
                max_messages=self.settings.line_user_messages, limit=concurrency * 4)
        if not users:
            return 0
        slots = asyncio.Semaphore(concurrency)
        return sum(await asyncio.gather(*(self._serve(user, reply_due, slots) for user, reply_due in users)))

    async def _serve(self, user_key: bytes, reply_due: bool, slots: asyncio.Semaphore) -> int:
        async with slots, self.runtime.db.acquire() as conn:
            if not await repository.try_lock_user(conn, user_key):
                return 0  # another replica has them
            try:
                done = await self._send_replies(conn, user_key) if reply_due else 0
                rows = await repository.next_events(conn, user_key, limit=EVENTS_PER_TURN,
                                                    window_seconds=self.settings.line_user_window_seconds,
                                                    max_messages=self.settings.line_user_messages)
                for row in rows:
                    user_id = await self._handle(conn, user_key, row)
                    if user_id is None:
                        break  # to be tried again (or no sender): the turn ends, the later ones wait a pass
                    done += 1 + await self._send_replies(conn, user_key, user_id)
                return done
            finally:
                try:
                    await repository.unlock_user(conn, user_key)
                except Exception:
                    conn.terminate()  # the session lock goes with the connection

    # -- one message ------------------------------------------------------------------------------------------
    async def _handle(self, conn: asyncpg.Connection, user_key: bytes, row: asyncpg.Record) -> str | None:
        """The message handled (or set aside): returns the sender's LINE user id; None if it is to be tried again
        (or names no sender)."""
        event_id: str = row["event_id"]
        state: State | None = None
        try:
            raw = json.loads(self.vault.open(row["event_enc"]) or "{}")
            user_id: str = raw["source"]["userId"]
            state = await self._state(conn, user_key)
            result = conversation.step(state, incoming(raw))
            state, replies = result.state, list(result.replies)
            for action in result.actions:
                if isinstance(action, CreateCase):
                    case_id, number = await self._report(conn, user_key, event_id, action)
                    after = conversation.step(state, CaseCreated(case_id, number, action.silent))
                    state, replies = after.state, replies + list(after.replies)
            notes = [a.text for a in result.actions if isinstance(a, AddNote)]
            urgent = any(isinstance(a, RaiseUrgency) for a in result.actions)
            writes_case = state.case_id is not None and (notes or urgent)
            # A transaction only when the case is written too: the outcome alone is one statement.
            async with conn.transaction() if writes_case else contextlib.nullcontext():
                if state.case_id is not None:
                    for note in notes:
                        await service.add_note(conn, self.vault, state.case_id, note, source="line", author="line")
                    if urgent:
                        await service.raise_urgency(conn, self.runtime, state.case_id, Priority.P1,
                                                    reason_code="danger_words", channel=Channel.line)
                await repository.handled(conn, event_id, user_key, user_id_enc=self._seal(user_id),
                                         state_enc=self._seal(state.model_dump_json()), case_id=state.case_id,
                                         reply=self._reply(event_id, row, raw.get("replyToken"), replies))
            return user_id
        except TRANSIENT:
            raise  # the database is away: the message waits, untouched
        except Exception as exc:
            reason = _reason(exc)
            log.error("LINE message %s of user %s failed: %s", event_id, _hint(user_key), reason,
                      exc_info=not isinstance(exc, ValidationError))  # a validation error would print their words
            attempts = await repository.record_failure(conn, event_id, reason)
            if attempts < ATTEMPTS_MAX:
                return None
            return await self._set_aside(conn, user_key, event_id, row, reason, state)

    async def _state(self, conn: asyncpg.Connection, user_key: bytes) -> State:
        found = await repository.conversation(conn, user_key)
        try:
            state = State.model_validate_json(self.vault.open(found["state_enc"]) or "{}") if found else State()
        except ValidationError:
            # A state this version cannot read must not stop the person for good: start over, keep their case.
            log.warning("LINE user %s: conversation unreadable, started over", _hint(user_key))
            state = State(case_id=found["case_id"]) if found else State()
        if state.case_id is not None:
            # The conversation's case is the state's (saved together): its status came with it, joined.
            if found is not None and found["case_id"] == state.case_id:
                case = (found["status"], found["case_number"]) if found["status"] is not None else None
            else:
                case = await repository.case_status(conn, state.case_id)
            if case is None or case[0] == "resolved":
                state = state.case_closed()
            elif state.case_number is None:
                state = state.model_copy(update={"case_number": case[1]})
        return state

    async def _report(self, conn: asyncpg.Connection, user_key: bytes, event_id: str,
                      action: CreateCase) -> tuple[uuid.UUID, str]:
        """The case of this message: created once, however often the message is handled."""
        case_id = uuid.uuid5(CASE_IDS, event_id)
        found = await repository.case_status(conn, case_id)
        if found is not None:
            return case_id, found[1]
        accepted = await service.report(self.runtime, self.vault, action.body, service.Reporter(subject="line"),
                                        case_id=case_id)
        log.info("LINE user %s reported case %s%s", _hint(user_key), accepted.case_number,
                 " (silent SOS)" if action.silent else "")
        return case_id, accepted.case_number

    def _reply(self, event_id: str, row: asyncpg.Record, reply_token: object,
               replies: list[m.Reply]) -> repository.Reply | None:
        """The answer to a message, sealed, to queue; None if it has none."""
        if not replies:
            return None
        token = reply_token if isinstance(reply_token, str) and reply_token else None
        payload = json.dumps([r.model_dump() for r in replies], ensure_ascii=False)
        return repository.Reply(
            reply_id=uuid.uuid5(CASE_IDS, f"reply:{event_id}"), reply_token=token,
            token_expires_at=row["received_at"] + timedelta(seconds=self.settings.line_reply_token_seconds),
            messages_enc=self._seal(payload))

    async def _set_aside(self, conn: asyncpg.Connection, user_key: bytes, event_id: str, row: asyncpg.Record,
                         reason: str, state: State | None) -> str | None:
        """Kept sealed for the ops team; the person is told to call 1300 (blandly after a silent SOS)."""
        log.error("LINE message %s of user %s set aside after %d attempts", event_id, _hint(user_key), ATTEMPTS_MAX)
        raw = json.loads(self.vault.open(row["event_enc"]) or "{}")
        user_id = raw.get("source", {}).get("userId")
        async with conn.transaction():
            await repository.mark_handled(conn, event_id, error=reason)
            if not isinstance(user_id, str):
                return None
            await repository.ensure_conversation(conn, user_key, user_id_enc=self._seal(user_id),
                                                 state_enc=self._seal(State().model_dump_json()))
            silent = state is None or state.silent or state.asked == "sos"
            reply = self._reply(event_id, row, raw.get("replyToken"), [m.say(m.BLAND if silent else m.TROUBLE)])
            assert reply is not None
            await repository.add_reply(conn, user_key, reply)
        return user_id

    # -- replies ----------------------------------------------------------------------------------------------
    async def _send_replies(self, conn: asyncpg.Connection, user_key: bytes, user_id: str | None = None) -> int:
        """Send the user's due answers in order; `user_id` if the caller knows it already (else it is read)."""
        due = await repository.due_replies(conn, user_key)
        if not due:
            return 0
        if user_id is None:
            found = await repository.conversation(conn, user_key)
            user_id = self.vault.open(found["user_id_enc"]) if found else None
        if user_id is None:
            return 0
        sent = 0
        now = utcnow()
        for row in due:
            if not row["due"]:
                break  # order: a later answer waits while an earlier one is retried
            fresh = row["reply_token"] and row["token_expires_at"] and row["token_expires_at"] > now
            replies = [m.Reply.model_validate(r) for r in json.loads(self.vault.open(row["messages_enc"]) or "[]")]
            result = await self.replies.send(user_id=user_id, reply_token=row["reply_token"] if fresh else None,
                                             retry_key=row["reply_id"], replies=replies)
            if result.ok:
                await repository.reply_sent(conn, row["reply_id"])
                sent += 1
                continue
            attempts = row["attempts"] + 1
            permanent = result.permanent or attempts >= REPLY_ATTEMPTS_MAX
            log.warning("LINE answer to user %s not sent (%s)%s", _hint(user_key), result.error,
                        "; given up" if permanent else "; will retry")
            await repository.reply_failed(conn, row["reply_id"], error=result.error or "",
                                          retry_in=None if permanent else min(2.0 ** attempts, REPLY_BACKOFF_CAP))
            if not permanent:
                break
        return sent

    def _seal(self, value: str) -> bytes:
        sealed = self.vault.seal(value)
        assert sealed is not None
        return sealed


def _hint(user_key: object) -> str:
    """What logs say of a user: a prefix of their keyed hash, never the LINE user id."""
    return user_key.hex()[:8] if isinstance(user_key, bytes) else "?"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):  # where and what, never the value (their words)
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())[:500]
    return f"{type(exc).__name__}: {exc}"[:500]
