"""The emulator's parameter checks: required, unknown and mistyped parameters, coercion of form and
JSON values, and the structure of reply markup (keyboard size, callback_data, button URLs)."""

from __future__ import annotations

import json

import pytest

from emulator.errors import ApiError
from emulator.params import METHODS, UploadedFile, validate

PHOTO = UploadedFile(filename="cover.jpg", content_type="image/jpeg", data=b"\xff\xd8\xff")


def refusal(method: str, raw: dict[str, object]) -> str:
    """The description of the 400 that validate answers to this request."""
    with pytest.raises(ApiError) as caught:
        validate(method, raw)
    assert caught.value.code == 400
    return caught.value.description


def callback_button(data: str = "poll:1:yes") -> dict[str, object]:
    return {"text": "Yes", "callback_data": data}


def inline_keyboard(*rows: list[dict[str, object]]) -> dict[str, object]:
    return {"inline_keyboard": list(rows)}


def send_with_markup(markup: object) -> dict[str, object]:
    return validate("sendMessage", {"chat_id": 1, "text": "Vote", "reply_markup": markup})


def markup_refusal(markup: object) -> str:
    return refusal("sendMessage", {"chat_id": 1, "text": "Vote", "reply_markup": markup})


# --- required, unknown and mistyped parameters ---


def test_missing_required_parameter_is_named() -> None:
    """A request without a required parameter is refused with that parameter's name."""
    assert refusal("sendMessage", {"text": "hi"}) == 'Bad Request: parameter "chat_id" is required'


def test_unknown_parameter_is_named() -> None:
    """A parameter the method does not take is refused by name."""
    assert (
        refusal("sendMessage", {"chat_id": 1, "text": "hi", "foo": "1"})
        == 'Bad Request: unknown parameter "foo"'
    )


def test_unknown_parameter_is_reported_before_missing_ones() -> None:
    """An unknown parameter is named even when required ones are missing too."""
    assert refusal("sendMessage", {"foo": "1"}) == 'Bad Request: unknown parameter "foo"'


def test_mistyped_parameter_is_reported_before_missing_ones() -> None:
    """A mistyped parameter is named even when required ones are missing too."""
    assert (
        refusal("sendMessage", {"chat_id": 1.5})
        == 'Bad Request: parameter "chat_id" must be Integer or String'
    )


def test_mistyped_parameter_names_the_accepted_types() -> None:
    """A value of the wrong type is refused with every type the parameter accepts."""
    assert (
        refusal("sendMessage", {"chat_id": True, "text": "hi"})
        == 'Bad Request: parameter "chat_id" must be Integer or String'
    )


def test_unknown_method_is_not_found() -> None:
    """A method the emulator does not serve is answered 404 Not Found."""
    with pytest.raises(ApiError) as caught:
        validate("sendDice", {"chat_id": 1})
    assert (caught.value.code, caught.value.description) == (404, "Not Found")


def test_null_counts_as_not_sent() -> None:
    """A JSON null leaves an optional parameter out and does not satisfy a required one."""
    assert validate("sendMessage", {"chat_id": 1, "text": "hi", "reply_markup": None}) == {
        "chat_id": 1,
        "text": "hi",
    }
    assert refusal("getChat", {"chat_id": None}) == 'Bad Request: parameter "chat_id" is required'


def test_method_without_parameters_takes_an_empty_request() -> None:
    """getMe validates to no parameters at all."""
    assert validate("getMe", {}) == {}


@pytest.mark.parametrize(
    ("method", "name"), [(m, f) for m, spec in METHODS.items() for f in spec.fields]
)
def test_every_field_refuses_a_value_of_no_bot_api_type(method: str, name: str) -> None:
    """Every served field refuses a value no Bot API type has, naming the types it accepts."""
    types = " or ".join(METHODS[method].fields[name].types)
    assert refusal(method, {name: object()}) == f'Bad Request: parameter "{name}" must be {types}'


# --- coercion of form strings and JSON values ---


@pytest.mark.parametrize(("sent", "seen"), [("123", 123), ("-1001234567890", -1001234567890)])
def test_numeric_chat_id_from_a_form_becomes_an_integer(sent: str, seen: int) -> None:
    """A chat_id sent as decimal text is read as the integer it spells."""
    assert validate("getChat", {"chat_id": sent}) == {"chat_id": seen}


def test_channel_username_stays_a_string() -> None:
    """A chat_id that is a @username stays text."""
    assert validate("getChat", {"chat_id": "@newsroom"}) == {"chat_id": "@newsroom"}


@pytest.mark.parametrize(
    ("sent", "seen"),
    [("true", True), ("false", False), ("1", True), ("0", False), (True, True), (False, False)],
)
def test_booleans_read_from_form_and_json(sent: object, seen: bool) -> None:
    """Booleans are read from JSON true/false and from form text true/false/1/0."""
    raw = {"chat_id": 1, "text": "hi", "disable_notification": sent}
    assert validate("sendMessage", raw)["disable_notification"] is seen


@pytest.mark.parametrize("sent", ["yes", "", 1, "[]"])
def test_boolean_refuses_other_values(sent: object) -> None:
    """Anything but true/false/1/0 text or a JSON boolean is not a Boolean."""
    raw = {"chat_id": 1, "text": "hi", "protect_content": sent}
    expected = 'Bad Request: parameter "protect_content" must be Boolean'
    assert refusal("sendMessage", raw) == expected


@pytest.mark.parametrize(("sent", "seen"), [("42", 42), (42, 42), ("+7", 7), (42.0, 42)])
def test_integers_read_from_form_and_json(sent: object, seen: int) -> None:
    """Integers are read from JSON numbers and from decimal text."""
    assert validate("deleteMessage", {"chat_id": 1, "message_id": sent})["message_id"] == seen


@pytest.mark.parametrize("sent", ["12a", "1.5", "", " 4", "\u0661\u0662", True, 1.5])
def test_integer_refuses_other_values(sent: object) -> None:
    """Text that is not plain ASCII decimal digits, a fraction or a boolean is not an Integer."""
    assert (
        refusal("deleteMessage", {"chat_id": 1, "message_id": sent})
        == 'Bad Request: parameter "message_id" must be Integer'
    )


def test_string_takes_a_json_number_as_its_digits() -> None:
    """A JSON number sent for a String parameter is read as its decimal text."""
    assert validate("answerCallbackQuery", {"callback_query_id": 987}) == {
        "callback_query_id": "987"
    }


def test_json_typed_parameters_accept_encoded_text_and_native_values() -> None:
    """Objects and arrays may come JSON-encoded in a form field or as JSON values."""
    entities = [{"type": "bold", "offset": 0, "length": 4}]
    preview = {"is_disabled": True}
    encoded = validate(
        "sendMessage",
        {
            "chat_id": "5",
            "text": "News",
            "entities": json.dumps(entities),
            "link_preview_options": json.dumps(preview),
        },
    )
    native = validate(
        "sendMessage",
        {"chat_id": 5, "text": "News", "entities": entities, "link_preview_options": preview},
    )
    expected = {
        "chat_id": 5,
        "text": "News",
        "entities": entities,
        "link_preview_options": preview,
    }
    assert encoded == expected
    assert native == expected


def test_reply_parameters_message_id_is_coerced() -> None:
    """reply_parameters' message_id is read as an integer and its other fields kept."""
    raw = {"chat_id": 1, "text": "hi", "reply_parameters": '{"message_id": "9", "quote": "x"}'}
    assert validate("sendMessage", raw)["reply_parameters"] == {"message_id": 9, "quote": "x"}


def test_reply_parameters_without_message_id_is_refused() -> None:
    """reply_parameters must name the message replied to."""
    raw = {"chat_id": 1, "text": "hi", "reply_parameters": {"quote": "x"}}
    assert refusal("sendMessage", raw) == (
        'Bad Request: parameter "reply_parameters" must be ReplyParameters'
    )


def test_undecodable_json_is_a_type_error() -> None:
    """Text that is not JSON is refused as a value of the wrong type."""
    assert markup_refusal("{inline_keyboard:") == (
        'Bad Request: parameter "reply_markup" must be InlineKeyboardMarkup or '
        "ReplyKeyboardMarkup or ReplyKeyboardRemove or ForceReply"
    )


def test_allowed_updates_is_an_array_of_strings() -> None:
    """allowed_updates is read from JSON text and must hold only strings."""
    assert validate("getUpdates", {"allowed_updates": '["message", "callback_query"]'}) == {
        "allowed_updates": ["message", "callback_query"]
    }
    assert refusal("getUpdates", {"allowed_updates": "[1]"}) == (
        'Bad Request: parameter "allowed_updates" must be Array of String'
    )


def test_bot_commands_and_scope() -> None:
    """setMyCommands takes command objects and a scope of a known type."""
    commands = [{"command": "start", "description": "Begin"}]
    raw = {"commands": json.dumps(commands), "scope": '{"type": "all_private_chats"}'}
    assert validate("setMyCommands", raw) == {
        "commands": commands,
        "scope": {"type": "all_private_chats"},
    }
    assert refusal("setMyCommands", {"commands": "[]", "scope": {"type": "everyone"}}) == (
        'Bad Request: parameter "scope" must be BotCommandScope'
    )
    assert refusal("setMyCommands", {"commands": [{"command": "start"}]}) == (
        'Bad Request: parameter "commands" must be Array of BotCommand'
    )


# --- files ---


def test_photo_accepts_an_upload_or_a_file_id() -> None:
    """sendPhoto's photo may be an uploaded file part or a file_id / URL string."""
    assert validate("sendPhoto", {"chat_id": 1, "photo": PHOTO})["photo"] == PHOTO
    assert validate("sendPhoto", {"chat_id": 1, "photo": "AgACAgIAAx0"})["photo"] == "AgACAgIAAx0"


def test_attach_uri_points_at_a_file_part() -> None:
    """photo=attach://<name> takes the file part of that name, which is then not unknown."""
    raw = {"chat_id": 1, "photo": "attach://cover", "cover": PHOTO}
    assert validate("sendPhoto", raw) == {"chat_id": 1, "photo": PHOTO}


def test_file_part_under_a_string_parameter_is_refused() -> None:
    """A file sent where only text is accepted is a type error."""
    assert refusal("sendPhoto", {"chat_id": 1, "photo": PHOTO, "caption": PHOTO}) == (
        'Bad Request: parameter "caption" must be String'
    )


def test_certificate_must_be_an_upload() -> None:
    """setWebhook's certificate is InputFile only: a string is refused."""
    assert validate("setWebhook", {"url": "https://example.org/hook", "certificate": PHOTO}) == {
        "url": "https://example.org/hook",
        "certificate": PHOTO,
    }
    assert refusal("setWebhook", {"url": "https://example.org/hook", "certificate": "x"}) == (
        'Bad Request: parameter "certificate" must be InputFile'
    )


# --- reply markup ---


def test_inline_keyboard_round_trips() -> None:
    """A valid inline keyboard sent as JSON text comes back as the same object."""
    markup = inline_keyboard([callback_button(), {"text": "Read", "url": "https://example.org/a"}])
    assert send_with_markup(json.dumps(markup))["reply_markup"] == markup


@pytest.mark.parametrize(
    "markup",
    [
        {"keyboard": [["Yes", {"text": "No"}]], "resize_keyboard": True},
        {"remove_keyboard": True},
        {"force_reply": True, "input_field_placeholder": "Your answer"},
    ],
)
def test_send_accepts_every_reply_markup_kind(markup: dict[str, object]) -> None:
    """sendMessage accepts reply keyboards, keyboard removal and force-reply too."""
    assert send_with_markup(markup)["reply_markup"] == markup


def test_edit_accepts_only_an_inline_keyboard() -> None:
    """An edit refuses a reply keyboard: only InlineKeyboardMarkup is allowed there."""
    raw = {"chat_id": 1, "message_id": 2, "reply_markup": {"keyboard": [["Yes"]]}}
    assert refusal("editMessageReplyMarkup", raw) == (
        'Bad Request: parameter "reply_markup" must be InlineKeyboardMarkup'
    )


def test_reply_keyboard_button_needs_text() -> None:
    """A reply keyboard button that is neither text nor an object with text is refused."""
    assert markup_refusal({"keyboard": [[{"request_contact": True}]]}) == (
        'Bad Request: can\'t parse keyboard button: Field "text" must be of type String'
    )


def test_keyboard_of_100_buttons_and_rows_of_8_is_accepted() -> None:
    """Exactly 100 buttons, no row wider than 8, is within Telegram's limits."""
    rows = [[callback_button(f"b{r}:{c}") for c in range(8)] for r in range(12)]
    rows.append([callback_button(f"last:{c}") for c in range(4)])
    markup = inline_keyboard(*rows)
    assert send_with_markup(markup)["reply_markup"] == markup


def test_101_buttons_are_too_many() -> None:
    """A keyboard of 101 buttons is refused as too long."""
    rows = [[callback_button(f"b{r}:{c}") for c in range(1)] for r in range(101)]
    assert markup_refusal(inline_keyboard(*rows)) == "Bad Request: reply markup is too long"


def test_row_of_9_buttons_is_too_wide() -> None:
    """A row of 9 buttons is refused as too long."""
    row = [callback_button(f"b{c}") for c in range(9)]
    assert markup_refusal(inline_keyboard(row)) == "Bad Request: reply markup is too long"


@pytest.mark.parametrize("data", ["x" * 64, "é" * 32, "€" * 21, "1"])
def test_callback_data_up_to_64_utf8_bytes_is_accepted(data: str) -> None:
    """callback_data of 1 to 64 UTF-8 bytes is accepted, whatever its character count."""
    markup = inline_keyboard([callback_button(data)])
    assert send_with_markup(markup)["reply_markup"] == markup


@pytest.mark.parametrize("data", ["x" * 65, "é" * 33, "€" * 22, ""])
def test_callback_data_over_64_utf8_bytes_or_empty_is_invalid(data: str) -> None:
    """callback_data longer than 64 UTF-8 bytes (22 euro signs are 66) or empty is refused."""
    assert markup_refusal(inline_keyboard([callback_button(data)])) == (
        "Bad Request: BUTTON_DATA_INVALID"
    )


@pytest.mark.parametrize(
    "url", ["https://example.org/story?id=1", "http://example.org", "tg://resolve?domain=news"]
)
def test_http_and_tg_button_urls_are_accepted(url: str) -> None:
    """URL buttons may open http(s) and tg:// links."""
    markup = inline_keyboard([{"text": "Open", "url": url}])
    assert send_with_markup(markup)["reply_markup"] == markup


@pytest.mark.parametrize(
    "url", ["example org", "ftp://example.org/f", "javascript:alert(1)", "https://", ""]
)
def test_other_button_urls_are_invalid(url: str) -> None:
    """A URL button whose link is not http(s) or tg:// is refused."""
    assert markup_refusal(inline_keyboard([{"text": "Open", "url": url}])) == (
        "Bad Request: BUTTON_URL_INVALID"
    )


@pytest.mark.parametrize(
    ("button", "detail"),
    [
        ({"text": "Plain"}, "Text buttons are unallowed in the inline keyboard"),
        (
            {"text": "Two", "callback_data": "a", "url": "https://example.org"},
            "exactly one of the optional fields must be used",
        ),
        ({"callback_data": "a"}, 'Can\'t find field "text"'),
        ({"text": 5, "callback_data": "a"}, 'Field "text" must be of type String'),
        ({"text": "Data", "callback_data": 5}, 'Field "callback_data" must be of type String'),
        ({"text": "Pay", "pay": "yes"}, 'Field "pay" must be of type Boolean'),
        ("Yes", "InlineKeyboardButton should be an Object"),
    ],
)
def test_malformed_inline_button_is_refused(button: object, detail: str) -> None:
    """An inline button needs text and exactly one action of the right type."""
    markup = {"inline_keyboard": [[button]]}
    assert markup_refusal(markup) == f"Bad Request: can't parse inline keyboard button: {detail}"


@pytest.mark.parametrize("rows", [[callback_button()], "row", [[callback_button()], "row"]])
def test_inline_keyboard_must_be_rows_of_buttons(rows: object) -> None:
    """inline_keyboard must be an array of arrays."""
    assert markup_refusal({"inline_keyboard": rows}) == (
        'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
        "should be an Array of Arrays"
    )
