"""Answers to what users do with a bot's buttons and inline mode: callback and inline queries."""

from __future__ import annotations

from typing import Any

from emulator.call import Call, Handler
from emulator.content import message_text
from emulator.errors import ApiError
from emulator.state import CallbackAnswer, InlineAnswer

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
MAX_ANSWER_TEXT = 200
MAX_INLINE_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
MAX_NEXT_OFFSET_BYTES = 64


async def answer_callback_query(call: Call) -> object:
    world = call.world
    text = call.string("text")
    if text is not None and len(text) > MAX_ANSWER_TEXT:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    query = world.callback_queries.get(call.string("callback_query_id") or "")
    now = world.clock.now()
    if (
        query is None
        or query.bot_id != call.bot.id
        or query.answer is not None
        or now - query.created_at > world.callback_answer_timeout
    ):
        raise ApiError.bad_request(QUERY_TOO_OLD)
    query.answer = CallbackAnswer(
        text=text, show_alert=call.flag("show_alert"), url=call.string("url"), answered_at=now
    )
    query.answered.set()
    return True


def _check_result(result: dict[str, Any], seen: set[str]) -> None:
    result_id = result.get("id")
    if (
        not isinstance(result_id, str)
        or not result_id
        or len(result_id.encode()) > MAX_RESULT_ID_BYTES
    ):
        raise ApiError.bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise ApiError.bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    if not isinstance(result.get("type"), str):
        raise ApiError.bad_request("RESULT_TYPE_INVALID")
    content = result.get("input_message_content")
    if isinstance(content, dict) and "message_text" in content:
        # Telegram parses the text when the answer arrives, so broken markup fails here.
        message_text(
            str(content["message_text"]), content.get("parse_mode"), content.get("entities")
        )


async def answer_inline_query(call: Call) -> object:
    world = call.world
    query = world.inline_queries.get(call.string("inline_query_id") or "")
    now = world.clock.now()
    if (
        query is None
        or query.bot_id != call.bot.id
        or query.answer is not None
        or now - query.created_at > world.callback_answer_timeout
    ):
        raise ApiError.bad_request(QUERY_TOO_OLD)
    results = call.items("results") or []
    if len(results) > MAX_INLINE_RESULTS:
        raise ApiError.bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise ApiError.bad_request("RESULT_TYPE_INVALID")
        _check_result(result, seen)
    next_offset = call.string("next_offset") or ""
    if len(next_offset.encode()) > MAX_NEXT_OFFSET_BYTES:
        raise ApiError.bad_request("NEXT_OFFSET_INVALID")
    query.answer = InlineAnswer(
        query_id=query.id,
        query=query.query,
        results=results,
        next_offset=next_offset,
        cache_time=call.integer("cache_time") or 300,
        is_personal=call.flag("is_personal"),
        button=call.obj("button"),
        bot_id=call.bot.id,
    )
    query.answered.set()
    return True


HANDLERS: dict[str, Handler] = {
    "answerCallbackQuery": answer_callback_query,
    "answerInlineQuery": answer_inline_query,
}
