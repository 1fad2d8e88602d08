"""The delivery engine's sends and the taps' answers without python-telegram-bot's per-call
objects: plain JSON in, the new message's id (or Telegram's result) out.

A fan-out spends most of its time in python-telegram-bot's typed send methods: keyword
arguments gathered into objects, each parameter converted on its own, and every answer parsed
into a `Message` the engine never reads (it records only the message id; the chat id is its own
row's). `send` posts the method's parameters as they go on the wire and reads only the id.

What stays python-telegram-bot's, so nothing changes but the cost:
- pacing: the call goes through the bot's rate limiter (our `SendLimiter`) exactly as
  ``ExtBot._do_post`` hands it over (endpoint, parameters, a callback to retry), so turns, the
  429 pause and its retries are the same code;
- errors: the body goes through the bot's request object (``BaseRequest.post``, on our aiohttp
  transport), whose own mapping turns an error answer into the exception the typed methods
  raise: the same types (Forbidden, BadRequest, RetryAfter, ChatMigrated, TimedOut,
  NetworkError ...) with the same messages, which `bot.telegram.errors.classify` reads. Reusing
  that mapping beats copying it: a python-telegram-bot upgrade cannot make the two disagree;
- the wire: strings go as they are and every other value JSON-encoded inside the JSON object,
  each value the text python-telegram-bot would send.

Not applied here, and unused by this bot: ``telegram.ext.Defaults`` and arbitrary callback
data. The URL holds the bot token; it is never logged or put in an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import ExtBot
from telegram.request import RequestData

# python-telegram-bot's own parameter type: what its RequestData is made of.
from telegram.request._requestparameter import RequestParameter

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


def keyboard_json(markup: InlineKeyboardMarkup) -> str:
    """A keyboard as the ``reply_markup`` parameter goes on the wire (encode it once, send it
    many times)."""
    return json.dumps(markup.to_dict())


def _wire(value: object) -> str:
    """A parameter's value as python-telegram-bot puts it in the JSON body: strings as they are,
    anything else JSON-encoded (numbers and booleans without a call into json)."""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    return json.dumps(value)


async def call(bot: Bot, method: str, parameters: Mapping[str, object]) -> ApiResult:
    """Call `method` with `parameters` (those that are None left out, as python-telegram-bot
    does); Telegram's result as JSON. Raises what the typed method would raise for the same
    answer (`TelegramError` and its subclasses)."""
    data = {name: value for name, value in parameters.items() if value is not None}
    body = RequestData(
        [RequestParameter(name, _wire(value), None) for name, value in data.items()]
    )
    request = bot.request
    url = f"{bot.base_url}/{method}"

    async def post() -> ApiResult:
        return await request.post(url, request_data=body)

    limiter = bot.rate_limiter if isinstance(bot, ExtBot) else None
    if limiter is None:
        return await post()
    result: ApiResult = await limiter.process_request(
        callback=post,
        args=(),
        kwargs={},
        endpoint=method,
        data=data,
        rate_limit_args=None,
    )
    return result


async def send(bot: Bot, method: str, parameters: Mapping[str, object]) -> int:
    """Call `method` (sendMessage, sendPhoto, copyMessage ...) with `parameters`; the id of the
    message it made.

    Raises what the typed method would raise for the same answer (`TelegramError` and its
    subclasses); an answer without a message id raises `TelegramError` too.
    """
    result = await call(bot, method, parameters)
    message_id = result.get("message_id") if isinstance(result, dict) else None
    # bool is an int too: `true` is no message id.
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise TelegramError(f"Telegram answered {method} without a message id")
    return message_id
