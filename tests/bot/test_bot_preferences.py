"""/settings through the emulator: one message edited in place per tap, each preference stored
and toasted, the sections offered, and buttons that are stale or forged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from harness import RunningBot
from polls_support import StartBot, started_private_chat
from preferences_support import buttons, open_settings, stored, tap
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.polls.votes import NOT_VALID
from bot.preferences.offers import section_key
from bot.telegram.callback_data import SettingsAction, SettingsTap, encode
from newsroom.article import ArticleDraft
from storage.articles import mark_published, store_article
from storage.models import DeliveryMode
from storage.types import utcnow

DASH = "\u2013"  # quiet ranges are shown with an en dash
# Each test is a conversation in one chat, about what it says and stores, not about its pace.
pytestmark = pytest.mark.quick_private_chats


async def test_every_tap_edits_the_one_settings_message_and_stores_the_choice(
    running_bot: RunningBot,
) -> None:
    """A reader sets a daily digest, quiet hours and a time zone: each tap is stored at once and
    toasted, and the same message is edited every time (no new message is sent)."""
    emu = running_bot.emulator
    reader = emu.create_user("Lea")
    chat = started_private_chat(emu, reader)
    message = await open_settings(emu, reader, chat)
    assert message.text is not None
    assert message.text.splitlines()[:5] == [
        "⚙️ Settings for this chat",
        "Sections: all sections",
        "Delivery: instant, each article as it is published",
        "Quiet hours: off",
        "Time zone: UTC (the bot's default)",
    ]

    assert await tap(emu, reader, message, "Delivery") is None
    assert await tap(emu, reader, message, "Daily digest") is None
    assert await tap(emu, reader, message, "08:00") == "Daily digest at 08:00."
    chosen = await stored(running_bot, reader.id)
    assert (chosen.delivery_mode, chosen.digest_hour) == (DeliveryMode.DAILY, 8)
    assert "✅ Daily digest" in buttons(message)

    await tap(emu, reader, message, "« Back")
    await tap(emu, reader, message, "Quiet hours")
    assert await tap(emu, reader, message, f"22:00{DASH}07:00") == f"Quiet hours 22:00{DASH}07:00."
    chosen = await stored(running_bot, reader.id)
    assert (chosen.quiet_from, chosen.quiet_until) == (22 * 60, 7 * 60)

    await tap(emu, reader, message, "« Back")
    await tap(emu, reader, message, "Time zone")
    assert await tap(emu, reader, message, "Asia/Tokyo") == "Time zone: Asia/Tokyo."
    assert (await stored(running_bot, reader.id)).timezone == "Asia/Tokyo"
    assert "✅ Asia/Tokyo" in buttons(message)

    await tap(emu, reader, message, "« Back")
    assert message.text.splitlines()[2:5] == [
        "Delivery: daily digest at 08:00",
        f"Quiet hours: 22:00{DASH}07:00",
        "Time zone: Asia/Tokyo",
    ]
    sends = [
        r for r in emu.requests("sendMessage") if str(r.params.get("chat_id")) == str(chat.id)
    ]
    assert len(sends) == 1
    assert len(emu.requests("editMessageText")) == len(message.edits) == 10
    assert emu.bot_messages(chat) == [message]


async def test_weekly_digest_takes_a_day_then_an_hour(running_bot: RunningBot) -> None:
    """Weekly: the day first, then the hour; instant again clears both."""
    emu = running_bot.emulator
    reader = emu.create_user("Wim")
    message = await open_settings(emu, reader, started_private_chat(emu, reader))
    await tap(emu, reader, message, "Delivery")
    await tap(emu, reader, message, "Weekly digest")
    await tap(emu, reader, message, "Sunday")
    assert await tap(emu, reader, message, "18:00") == "Weekly digest on Sundays at 18:00."
    chosen = await stored(running_bot, reader.id)
    assert (chosen.delivery_mode, chosen.digest_weekday, chosen.digest_hour) == (
        DeliveryMode.WEEKLY,
        6,
        18,
    )
    assert await tap(emu, reader, message, "Instant") == (
        "Instant: each article as it is published."
    )
    chosen = await stored(running_bot, reader.id)
    assert (chosen.delivery_mode, chosen.digest_weekday, chosen.digest_hour) == (
        DeliveryMode.INSTANT,
        None,
        None,
    )


async def test_sections_come_from_the_sections_setting(start_bot: StartBot) -> None:
    """With SECTIONS set, those are the sections offered; following some and then "All sections"
    is stored each time, normalised."""
    async with start_bot(sections=("politics", "world news", "sport")) as bot:
        emu = bot.emulator
        reader = emu.create_user("Sol")
        message = await open_settings(emu, reader, started_private_chat(emu, reader))
        await tap(emu, reader, message, "Sections")
        assert buttons(message) == ["✅ All sections", "politics", "sport", "world news", "« Back"]

        assert await tap(emu, reader, message, "world news") == "Following world news."
        assert await tap(emu, reader, message, "sport") == "Following sport."
        assert (await stored(bot, reader.id)).sections == ("sport", "world news")
        assert buttons(message)[:4] == ["All sections", "politics", "✅ sport", "✅ world news"]

        assert await tap(emu, reader, message, "✅ sport") == "No longer following sport."
        assert await tap(emu, reader, message, "All sections") == "Every section comes here."
        assert (await stored(bot, reader.id)).sections == ()


async def test_without_the_setting_recent_articles_give_the_sections(
    running_bot: RunningBot,
) -> None:
    """Without SECTIONS, the topics of articles published in the last 90 days are offered, as
    stored: case folded, spaces collapsed, each once; older articles' topics are not."""
    now = utcnow()
    async with running_bot.db.transaction() as session:
        for url, topics, age in [
            ("https://news.example/a", ("Local  News", "SCIENCE"), timedelta(days=3)),
            ("https://news.example/b", ("science", "Culture"), timedelta(days=80)),
            ("https://news.example/c", ("Archive",), timedelta(days=120)),
        ]:
            article = await store_article(
                session, draft=ArticleDraft(title="T", url=url, topics=topics)
            )
            assert article.article.id is not None
            await mark_published(session, article_id=article.article.id, at=now - age)
    emu = running_bot.emulator
    reader = emu.create_user("Rio")
    message = await open_settings(emu, reader, started_private_chat(emu, reader))
    await tap(emu, reader, message, "Sections")
    assert buttons(message) == ["✅ All sections", "culture", "local news", "science", "« Back"]
    assert await tap(emu, reader, message, "local news") == "Following local news."
    assert (await stored(running_bot, reader.id)).sections == ("local news",)


async def test_stale_and_forged_buttons_change_nothing(start_bot: StartBot) -> None:
    """Settings data that names no action, a value no button carries, a section no longer
    offered or a channel the bot does not know gets "This button is no longer valid."; nothing
    is stored and no message edited."""
    async with start_bot(sections=("sport",)) as bot:
        emu = bot.emulator
        reader = emu.create_user("Kai")
        chat = started_private_chat(emu, reader)
        await open_settings(emu, reader, chat)
        before = await stored(bot, reader.id)
        forged = [
            "1:p:x:0",
            encode(SettingsTap(SettingsAction.DAILY, 24)),
            encode(SettingsTap(SettingsAction.WEEKLY, 7 * 24)),
            encode(SettingsTap(SettingsAction.QUIET_RANGE, 99)),
            encode(SettingsTap(SettingsAction.ZONE, 99)),
            encode(SettingsTap(SettingsAction.TOGGLE_SECTION, section_key("gardening"))),
            encode(SettingsTap(SettingsAction.INSTANT, 0, -1_009_999_999_999)),
        ]
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(d, callback_data=d)] for d in forged]
        )
        sent = await bot.application.bot.send_message(chat.id, "Forged", reply_markup=keyboard)
        message = chat.messages[sent.message_id]
        for data in forged:
            answer = await emu.press_button(reader, message, data=data)
            assert answer.text == NOT_VALID, data
        assert message.edits == []
        assert await stored(bot, reader.id) == before
