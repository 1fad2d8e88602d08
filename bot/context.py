"""The typed context handlers receive: the application's services instead of string keys."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings
from storage.engine import Database


class BotServices:
    """What every handler needs; set once by `build_application`, shared for the app's life."""

    settings: Settings
    db: Database


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotServices]):
    @property
    def services(self) -> BotServices:
        return self.bot_data


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotServices, Any
]
