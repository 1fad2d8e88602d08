"""How updates reach a bot: getUpdates long polling, or webhooks pushed as Telegram pushes them.

A webhook gets up to its `max_connections` requests at once (setWebhook, 1-100, default 40), as
Telegram opens that many connections to it: updates start in queue order and may finish out of
order. Each stays pending (getWebhookInfo's `pending_update_count`) until its endpoint answers
2xx; a failure is reported in `last_error_date` / `last_error_message` and retried on the same
connection, backing off, until MAX_ATTEMPTS failures drop the update. Updates a test delivers
again (`replays`) are pushed once, on a connection of their own, whatever the answer.

A 2xx answer may carry one method call, as the Bot API allows: a JSON body (Content-Type
application/json) with a "method" field and that method's parameters. It is carried out exactly
as if the bot had called it over HTTP (emulator.server's `perform`: the same checks against the
spec, limits, flood rules and error texts), recorded with the bot's requests (`webhook_reply`),
and its result is never reported back. A refusal is logged and kept in the bot's
`webhook_reply_errors`; the pusher goes on with the next update. An empty body, or one without
"method", changes nothing. (Telegram also reads form-encoded replies; this emulator reads JSON.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NamedTuple

import aiohttp

from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.state import (
    BotAccount,
    JsonObject,
    RecordedRequest,
    Update,
    WebhookConfig,
    WebhookReplyError,
    World,
)

MAX_LIMIT = 100
SECOND_POLLER = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Retries back off from FIRST_RETRY doubling up to LAST_RETRY; an update is dropped after
# MAX_ATTEMPTS failures so one broken endpoint never wedges the queue forever.
FIRST_RETRY = 0.05
LAST_RETRY = 2.0
MAX_ATTEMPTS = 12
PUSH_TIMEOUT = 10.0
# What emulator.server hands in to carry out a webhook reply's method: its one dispatch.
Perform = Callable[[World, BotAccount, str, dict[str, object]], Awaitable[RecordedRequest]]
_log = logging.getLogger(__name__)


def _set_allowed(bot: BotAccount, allowed: list[Any] | None) -> None:
    if allowed is None:
        return
    # An empty list means "the default", as in Telegram.
    bot.allowed_updates = frozenset(str(kind) for kind in allowed) if allowed else None


def _confirm(bot: BotAccount, offset: int | None) -> None:
    updates = bot.updates
    if offset is None or offset == 0:
        return
    if offset < 0:
        while len(updates) > -offset:
            updates.popleft()
        return
    if bot.handed_out_since_restart is not None:
        # A restarted server knows nothing of the ids it handed out before.
        offset = min(offset, bot.handed_out_since_restart + 1)
    while updates and updates[0].update_id < offset:
        updates.popleft()


async def get_updates(call: Call) -> object:
    bot = call.bot
    if bot.webhook is not None:
        raise ApiError.conflict(WEBHOOK_ACTIVE)
    _set_allowed(bot, call.items("allowed_updates"))
    # A newer poll takes over: wake the earlier one so it answers 409.
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.wake()
    call.world.signal.notify()
    _confirm(bot, call.integer("offset"))
    limit = call.integer("limit") or MAX_LIMIT
    limit = max(1, min(MAX_LIMIT, limit))
    timeout = max(0, call.integer("timeout") or 0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.updates and not bot.replays and not call.world.closing:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await bot.wait_for_wakeup(remaining)
        if bot.poll_generation != generation:
            raise ApiError.conflict(SECOND_POLLER)
        if bot.webhook is not None:
            raise ApiError.conflict(WEBHOOK_ACTIVE)
    # Updates a test delivers again go out once, ahead of the queue, whatever the offset says.
    batch = [bot.replays.popleft().to_api() for _ in range(min(limit, len(bot.replays)))]
    limit -= len(batch)
    for index, update in enumerate(bot.updates):
        if index >= limit:
            break
        batch.append(update.to_api())
    if bot.handed_out_since_restart is not None and batch:
        newest = max(int(update["update_id"]) for update in batch)
        bot.handed_out_since_restart = max(bot.handed_out_since_restart, newest)
    return batch


def _drop_pending(bot: BotAccount, call: Call) -> None:
    if call.flag("drop_pending_updates"):
        bot.updates.clear()


async def set_webhook(call: Call, perform: Perform) -> object:
    world, bot = call.world, call.bot
    url = call.string("url") or ""
    if not url:
        return await delete_webhook(call)
    if not url.startswith(("https://", "http://")):
        raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.string("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise ApiError.bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = call.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise ApiError.bad_request("bad webhook: max_connections must be between 1 and 100")
    _set_allowed(bot, call.items("allowed_updates"))
    _drop_pending(bot, call)
    hook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        ip_address=call.string("ip_address"),
    )
    bot.webhook = hook
    bot.wake()
    task = asyncio.get_running_loop().create_task(_push(world, bot, hook, perform))
    world.background.add(task)
    task.add_done_callback(world.background.discard)
    return True


async def delete_webhook(call: Call) -> object:
    bot = call.bot
    _drop_pending(bot, call)
    if bot.webhook is not None:
        bot.webhook = None
        bot.wake()
    return True


async def get_webhook_info(call: Call) -> object:
    bot = call.bot
    hook = bot.webhook
    info: JsonObject = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if bot.allowed_updates is not None:
        info["allowed_updates"] = sorted(bot.allowed_updates)
    return info


class _Answer(NamedTuple):
    """What the endpoint answered one push: the error Telegram would report, or a 2xx body."""

    error: str | None
    content_type: str = ""
    body: bytes = b""


async def _post_update(
    session: aiohttp.ClientSession, hook: WebhookConfig, body: bytes
) -> _Answer:
    """POST one update; the error Telegram would report, or the 2xx answer's body."""
    headers = {"Content-Type": "application/json"}
    if hook.secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    try:
        async with session.post(hook.url, data=body, headers=headers) as response:
            answer = await response.read()
            if 200 <= response.status < 300:
                return _Answer(None, response.content_type, answer)
            return _Answer(f"Wrong response from the webhook: {response.status} {response.reason}")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return _Answer(f"Connection failed: {error.__class__.__name__}")


def _session(world: World) -> aiohttp.ClientSession:
    if world.http is None or world.http.closed:
        world.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=PUSH_TIMEOUT), trust_env=False
        )
    return world.http


def _refused(bot: BotAccount, update_id: int, method: str, code: int, description: str) -> None:
    bot.webhook_reply_errors.append(WebhookReplyError(update_id, method, code, description))
    what = method or "a body that is not JSON"
    _log.warning(
        "webhook reply to update %d: %s refused: %d %s", update_id, what, code, description
    )


async def _carry_out_reply(
    world: World, bot: BotAccount, update_id: int, answer: _Answer, perform: Perform
) -> None:
    """The method call a 2xx answer carries, if any, done as the bot's own call."""
    if answer.content_type != "application/json" or not answer.body.strip():
        return
    try:
        reply = json.loads(answer.body)
    except ValueError:
        error = ApiError.bad_request("can't parse JSON object")
        _refused(bot, update_id, "", error.code, error.description)
        world.signal.notify()
        return
    if not isinstance(reply, dict) or "method" not in reply:
        return
    params = dict(reply)
    method = str(params.pop("method"))
    recorded = await perform(world, bot, method, params)
    if recorded.status != 200:
        description = str(recorded.response.get("description", ""))
        _refused(bot, update_id, recorded.method, recorded.status, description)
        world.signal.notify()


def _forget(bot: BotAccount, update: Update) -> None:
    """Take this very update off the queue (delivered or dropped), wherever it stands now."""
    for index, queued in enumerate(bot.updates):
        if queued is update:
            del bot.updates[index]
            return


async def _deliver(
    world: World, bot: BotAccount, hook: WebhookConfig, update: Update, perform: Perform
) -> None:
    """Push one queued update until its endpoint takes it, retrying with backoff."""
    body = json.dumps(update.to_api(), ensure_ascii=False).encode()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        answer = await _post_update(_session(world), hook, body)
        if answer.error is None:
            # Delivered, even if the webhook changed meanwhile: it is not pushed again.
            _forget(bot, update)
            world.signal.notify()
            await _carry_out_reply(world, bot, update.update_id, answer, perform)
            return
        if bot.webhook is not hook or world.closing:
            # Left queued: the bot's next webhook (or getUpdates) takes it from there.
            return
        hook.last_error_date = world.clock.unix()
        hook.last_error_message = answer.error
        world.signal.notify()
        if attempt < MAX_ATTEMPTS:
            await asyncio.sleep(min(LAST_RETRY, FIRST_RETRY * 2 ** (attempt - 1)))
            if bot.webhook is not hook or world.closing:
                return
    _forget(bot, update)


async def _deliver_replay(
    world: World, bot: BotAccount, hook: WebhookConfig, update: Update, perform: Perform
) -> None:
    """Push an update a test delivers again: once, whatever the endpoint answers."""
    body = json.dumps(update.to_api(), ensure_ascii=False).encode()
    answer = await _post_update(_session(world), hook, body)
    world.signal.notify()
    if answer.error is None:
        await _carry_out_reply(world, bot, update.update_id, answer, perform)


def _open_connection(
    world: World,
    bot: BotAccount,
    delivery: Coroutine[Any, Any, None],
    update: Update | None = None,
) -> None:
    """Run one delivery on a connection of its own; counted in flight until it ends."""
    bot.webhook_requests += 1
    if update is not None:
        bot.updates_in_flight.add(id(update))

    def closed(task: asyncio.Task[None]) -> None:
        world.background.discard(task)
        bot.webhook_requests -= 1
        if update is not None:
            bot.updates_in_flight.discard(id(update))
        # A connection is free: the pusher may start the next update.
        bot.wake()
        world.signal.notify()

    task = asyncio.get_running_loop().create_task(delivery)
    world.background.add(task)
    task.add_done_callback(closed)


async def _push(world: World, bot: BotAccount, hook: WebhookConfig, perform: Perform) -> None:
    """Start the bot's updates in queue order, up to `max_connections` in flight, while `hook`
    stays its webhook."""
    while bot.webhook is hook and not world.closing:
        if bot.webhook_requests >= hook.max_connections:
            await bot.wait_for_wakeup(60.0)
            continue
        if bot.replays:
            replay = bot.replays.popleft()
            _open_connection(world, bot, _deliver_replay(world, bot, hook, replay, perform))
            continue
        update = next((u for u in bot.updates if id(u) not in bot.updates_in_flight), None)
        if update is None:
            await bot.wait_for_wakeup(60.0)
            continue
        _open_connection(world, bot, _deliver(world, bot, hook, update, perform), update)


def handlers(perform: Perform) -> dict[str, Handler]:
    """The methods of this module; a webhook's reply is carried out with `perform`."""

    async def set_webhook_here(call: Call) -> object:
        return await set_webhook(call, perform)

    return {
        "getUpdates": get_updates,
        "setWebhook": set_webhook_here,
        "deleteWebhook": delete_webhook,
        "getWebhookInfo": get_webhook_info,
    }
