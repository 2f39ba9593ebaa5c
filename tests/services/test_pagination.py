"""Keyset cursors: opaque, round-tripping, and refused clearly when they are not ours."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import random
from types import SimpleNamespace

import pytest

from services.errors import BadUserInput
from services.pagination import (
    Ordering,
    PageRequest,
    SortKey,
    decode_cursor,
    encode_cursor,
    page_of,
)

BY_TIME = Ordering((SortKey("starts_at", True, "datetime"), SortKey("id", True, "int")))
BY_MONTH = Ordering((SortKey("month", False, "date"), SortKey("id", False, "int")))
BY_NAME = Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int")))


class Colour(str, enum.Enum):
    RED = "RED"


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("ordering", "values"),
    [
        (BY_TIME, [dt.datetime(2022, 9, 27, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), 7]),
        (BY_TIME, [dt.datetime(2022, 1, 1, tzinfo=dt.UTC), 1]),
        (BY_MONTH, [dt.date(2021, 6, 1), 42]),
        (BY_MONTH, [None, 3]),
        (BY_NAME, ["démocratie-culturelle « été »", 99999]),
    ],
)
def test_encode_decode_round_trip(ordering, values):
    item = SimpleNamespace(**{k.field: v for k, v in zip(ordering.keys, values, strict=True)})
    cursor = encode_cursor(ordering, item)
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(ordering, cursor) == values


def test_enum_values_are_encoded_by_value():
    ordering = Ordering((SortKey("colour"), SortKey("id", kind="int")))
    cursor = encode_cursor(ordering, SimpleNamespace(colour=Colour.RED, id=1))
    assert decode_cursor(ordering, cursor) == ["RED", 1]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "!!!!",
        "%%%",
        _raw("k2:not json"),
        _raw("k2:{}"),
        _raw('k2:["","-starts_at,-id",1]'),  # one value for two keys
        _raw('k2:["","-starts_at,-id","2022-01-01T00:00:00+00:00",1,2]'),
        _raw('k3:["","-starts_at,-id","2022-01-01T00:00:00+00:00",1]'),  # unknown version
        _raw('k1:["-starts_at,-id","2022-01-01T00:00:00+00:00",1]'),  # the previous version
        _raw('k2:["-starts_at,-id","2022-01-01T00:00:00+00:00",1]'),  # no list
        _raw('["2022-01-01T00:00:00+00:00",1]'),  # no version
        _raw('k2:["","-starts_at,-id","hier",1]'),
        _raw('k2:["","-starts_at,-id","2022-01-01T00:00:00+00:00","un"]'),
        _raw('k2:["","-starts_at,-id",[1],1]'),
        _raw('k2:["","-starts_at,-id","2022-01-01T00:00:00+00:00",[1]]'),
        base64.urlsafe_b64encode(b"k2:\xff\xfe").decode(),
    ],
)
def test_malformed_cursors_are_bad_user_input(cursor):
    valid = encode_cursor(BY_TIME, SimpleNamespace(starts_at=dt.datetime(2022, 1, 1), id=1))
    assert decode_cursor(BY_TIME, valid)  # the cases differ from a valid one in one thing
    with pytest.raises(BadUserInput) as caught:
        decode_cursor(BY_TIME, cursor)
    assert caught.value.code == "BAD_USER_INPUT"
    assert caught.value.field == "after"
    assert "Curseur invalide" in caught.value.message


def test_a_cursor_of_another_order_is_refused():
    cursor = encode_cursor(BY_NAME, SimpleNamespace(slug="abc", id=1))
    with pytest.raises(BadUserInput):
        decode_cursor(BY_TIME, cursor)


def test_page_of_cuts_pages_after_a_cursor():
    rows = [SimpleNamespace(slug=s, id=i) for i, s in enumerate("abcdefg", start=1)]
    first = page_of(rows, BY_NAME, PageRequest(first=3))
    assert [r.slug for r in first.items] == ["a", "b", "c"]
    assert first.has_next_page and not first.has_previous_page
    second = page_of(rows, BY_NAME, PageRequest(first=3, after=first.end_cursor))
    assert [r.slug for r in second.items] == ["d", "e", "f"]
    assert second.has_next_page and second.has_previous_page
    last = page_of(rows, BY_NAME, PageRequest(first=3, after=second.end_cursor))
    assert [r.slug for r in last.items] == ["g"]
    assert not last.has_next_page
    beyond = page_of(rows, BY_NAME, PageRequest(first=3, after=last.end_cursor))
    assert beyond.items == [] and beyond.start_cursor is None and not beyond.has_next_page
    with pytest.raises(BadUserInput):
        page_of(rows, BY_NAME, PageRequest(first=3, after="garbage"))


def test_a_cursor_of_another_list_is_refused():
    cursor = encode_cursor(BY_NAME, SimpleNamespace(slug="abc", id=1), scope="Query.territories")
    assert decode_cursor(BY_NAME, cursor, scope="Query.territories") == ["abc", 1]
    with pytest.raises(BadUserInput) as caught:
        decode_cursor(BY_NAME, cursor, scope="Query.organizations", field="before")
    assert caught.value.field == "before"


def test_a_page_request_has_first_or_last():
    for wrong in ({}, {"first": 1, "last": 1}):
        with pytest.raises(ValueError):
            PageRequest(**wrong)
    assert PageRequest(last=3).backward and PageRequest(last=3).size == 3


def test_page_of_backward_is_the_forward_walk_reversed():
    """On seeded random rows with ties on the first key, in both directions of each key:
    walking back from the end with ``last``/``before`` yields the forward walk, and any
    window either way is the slice of the sorted rows."""
    rng = random.Random(7)
    for ordering in (BY_NAME, Ordering((SortKey("slug", True), SortKey("id", True, "int")))):
        rows = [SimpleNamespace(slug=rng.choice("abcd"), id=i) for i in range(1, 40)]
        rows.sort(key=lambda r: (r.slug, r.id), reverse=ordering.keys[0].descending)
        for size in (1, 3, 7, 50):
            forward, after = [], None
            while True:
                page = page_of(rows, ordering, PageRequest(first=size, after=after))
                forward += page.items
                if not page.has_next_page:
                    break
                after = page.end_cursor
            assert forward == rows
            backward, before = [], None
            while True:
                page = page_of(rows, ordering, PageRequest(last=size, before=before))
                assert page.has_next_page is (before is not None)
                assert page.count.known == len(rows)
                backward = page.items + backward
                if not page.has_previous_page:
                    break
                before = page.start_cursor
            assert backward == rows
        for _ in range(50):
            at, size = rng.randrange(len(rows)), rng.randint(0, 6)
            cursor = encode_cursor(ordering, rows[at])
            page = page_of(rows, ordering, PageRequest(last=size, before=cursor))
            assert page.items == rows[max(0, at - size) : at]
            assert page.has_previous_page is (at - size > 0)
            page = page_of(rows, ordering, PageRequest(first=size, after=cursor))
            assert page.items == rows[at + 1 : at + 1 + size]
