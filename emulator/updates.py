"""How updates reach a bot: getUpdates long polling, or webhooks pushed with bounded retries."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.state import BotAccount, JsonObject, WebhookConfig, World

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


async def set_webhook(call: Call) -> object:
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
    task = asyncio.get_running_loop().create_task(_push(world, bot, hook))
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


async def _post_update(
    session: aiohttp.ClientSession, hook: WebhookConfig, body: bytes
) -> str | None:
    """POST one update; the error Telegram would report, or None on a 2xx."""
    headers = {"Content-Type": "application/json"}
    if hook.secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    try:
        async with session.post(hook.url, data=body, headers=headers) as response:
            await response.read()
            if 200 <= response.status < 300:
                return None
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return f"Connection failed: {error.__class__.__name__}"


def _session(world: World) -> aiohttp.ClientSession:
    if world.http is None or world.http.closed:
        world.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=PUSH_TIMEOUT), trust_env=False
        )
    return world.http


async def _push(world: World, bot: BotAccount, hook: WebhookConfig) -> None:
    """Deliver the bot's updates in order while `hook` stays its webhook."""
    attempts = 0
    while bot.webhook is hook and not world.closing:
        if bot.replays:
            # A test delivers this one again: pushed once, whatever the endpoint answers.
            replay = json.dumps(bot.replays.popleft().to_api(), ensure_ascii=False).encode()
            await _post_update(_session(world), hook, replay)
            world.signal.notify()
            continue
        if not bot.updates:
            await bot.wait_for_wakeup(60.0)
            continue
        update = bot.updates[0]
        body = json.dumps(update.to_api(), ensure_ascii=False).encode()
        error = await _post_update(_session(world), hook, body)
        if bot.webhook is not hook:
            return
        if error is None:
            attempts = 0
        else:
            attempts += 1
            hook.last_error_date = world.clock.unix()
            hook.last_error_message = error
            if attempts < MAX_ATTEMPTS:
                await asyncio.sleep(min(LAST_RETRY, FIRST_RETRY * 2 ** (attempts - 1)))
                continue
            attempts = 0
        if bot.updates and bot.updates[0] is update:
            bot.updates.popleft()
        world.signal.notify()


HANDLERS: dict[str, Handler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
