"""Tests for the callback data format: round trips, size and rejection of anything else."""

from __future__ import annotations

from typing import cast

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.telegram.callback_data import (
    MAX_CHANNEL_ID,
    MAX_ID,
    BroadcastDecision,
    CallbackValue,
    ClosedPollTap,
    CorrectionDecision,
    QueueCancel,
    SettingsAction,
    SettingsTap,
    VoteTap,
    encode,
    parse,
)

ids = st.integers(min_value=0, max_value=MAX_ID)
values: st.SearchStrategy[CallbackValue] = st.one_of(
    st.builds(VoteTap, poll_id=ids, option=st.integers(min_value=0, max_value=9)),
    st.builds(ClosedPollTap, poll_id=ids),
    st.builds(BroadcastDecision, broadcast_id=ids, send=st.booleans()),
    st.builds(QueueCancel, job_id=ids),
    st.builds(CorrectionDecision, correction_id=ids, confirm=st.booleans()),
    st.builds(
        SettingsTap,
        action=st.sampled_from(SettingsAction),
        value=ids,
        channel_id=st.none() | st.integers(min_value=-MAX_CHANNEL_ID + 1, max_value=-1),
    ),
)
# near-miss data: the characters valid data is made of, so hypothesis probes the edges
near_misses = st.text(alphabet="0123456789abcvqz:+-_ AZ\n\uff11", max_size=24)


@given(value=values)
@example(value=VoteTap(MAX_ID, 9))
@example(value=BroadcastDecision(MAX_ID, send=False))
def test_parse_reads_back_every_encoded_value(value: CallbackValue) -> None:
    """Whatever the bot encodes, parsing gives back the same typed value."""
    assert parse(encode(value)) == value


@given(value=values)
def test_encoded_data_fits_telegrams_64_bytes(value: CallbackValue) -> None:
    """Encoded data is ASCII and at most 64 bytes, for any id up to 2**31-1."""
    data = encode(value)
    assert data.isascii()
    assert 1 <= len(data.encode("utf-8")) <= 64


def test_settings_buttons_name_their_action_value_and_channel() -> None:
    """A settings button reads ``1:p:<action>:<value>[:<channel id without its sign>]``; data
    naming no action, a positive chat or an oversized channel is refused."""
    assert encode(SettingsTap(SettingsAction.DAILY, 8)) == "1:p:e:8"
    channel = SettingsTap(SettingsAction.TOGGLE_SECTION, 47, -1001234567890)
    assert encode(channel) == "1:p:t:1b:cryl7kya"
    assert len(encode(SettingsTap(SettingsAction.WEEKLY, MAX_ID, -MAX_CHANNEL_ID + 1))) == 24
    for data in ("1:p:x:0", "1:p:m:0:0", "1:p:m:-1", "1:p:m:0:" + "z" * 11, "1:p:M:0"):
        assert parse(data) is None


def test_correction_buttons_name_the_correction_and_the_choice() -> None:
    """Confirm and Cancel under a correction's preview read ``1:u:<id>:1`` and ``1:u:<id>:0``."""
    assert encode(CorrectionDecision(36, confirm=True)) == "1:u:10:1"
    assert parse("1:u:10:0") == CorrectionDecision(36, confirm=False)
    assert parse("1:u:10:2") is None


def test_largest_ids_stay_short() -> None:
    """The longest data the bot can write (largest ids) is 12 bytes."""
    longest = [encode(VoteTap(MAX_ID, 9)), encode(BroadcastDecision(MAX_ID, send=True))]
    assert [len(data.encode()) for data in longest] == [12, 12]


def test_encoding_is_version_kind_then_base36_fields() -> None:
    """Data reads ``<version>:<kind>:<base-36 id>[:<field>]``."""
    assert encode(VoteTap(poll_id=100, option=3)) == "1:v:2s:3"
    assert encode(ClosedPollTap(poll_id=35)) == "1:c:z"
    assert encode(BroadcastDecision(broadcast_id=36, send=True)) == "1:b:10:1"
    assert encode(BroadcastDecision(broadcast_id=0, send=False)) == "1:b:0:0"
    assert encode(QueueCancel(job_id=MAX_ID)) == "1:q:zik0zj"


@given(data=st.text() | near_misses)
def test_parse_never_raises_and_accepts_only_canonical_data(data: str) -> None:
    """Arbitrary text parses to None or to a value that encodes back to exactly that text."""
    value = parse(data)
    assert value is None or encode(value) == data


@pytest.mark.parametrize(
    "data",
    [
        "",
        "garbage",
        "1",
        "1:",
        "1:v",
        "1:v:",
        "0:v:1:0",  # an older version
        "2:v:1:0",  # a newer version
        "1:x:1",  # unknown kind
        "1:V:1:0",
        "1:v:1:0:0",  # extra field
        "1:c:1:0",
        "1:q:1:",
        "1:v:1",  # missing field
        "1:v:-1:0",
        "1:v:1:-1",
        "1:v:+1:0",
        "1:v:01:0",  # leading zero
        "1:v:00:0",
        "1:v:A:0",  # uppercase is not canonical
        "1:v:1_0:0",  # int() would accept the underscore
        "1:v: 1:0",
        "1:v:1:0\n",
        " 1:v:1:0",
        "1:v:\uff11:0",  # fullwidth digit that int() would accept
        "1:v:٣:0",  # Arabic-Indic digit
        "1:v:1:10",  # option beyond 0..9
        "1:b:1:2",
        "1:b:1:true",
        "1:c:zik0zk",  # 2**31, one past the largest id a database column holds
        "1:c:1y2p0ij32e8e8",  # 2**63
        "1:c:zzzzzzzzzzzzzz",
        "1:c:" + "1" * 5000,
    ],
)
def test_parse_rejects_forged_stale_or_garbled_data(data: str) -> None:
    """Anything the current version would not have written parses to None."""
    assert parse(data) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: VoteTap(poll_id=-1, option=0),
        lambda: VoteTap(poll_id=1, option=10),
        lambda: VoteTap(poll_id=True, option=0),
        lambda: ClosedPollTap(poll_id=MAX_ID + 1),
        lambda: BroadcastDecision(broadcast_id=1, send=cast("bool", 1)),
        lambda: QueueCancel(job_id=-5),
    ],
)
def test_values_out_of_range_are_refused(build: object) -> None:
    """A value the format cannot carry is refused when it is built, not when it is parsed."""
    assert callable(build)
    with pytest.raises(ValueError, match="must be"):
        build()
