"""Operators read English: domain errors, written in French for the API's users, become
English sentences in ``tec``, even those the table of messages does not know."""

from __future__ import annotations

from services.errors import BadUserInput, Conflict, InvalidInput, NotFound
from tec.messages import operator_message


def test_a_known_error_repeats_what_the_operator_typed():
    error = NotFound("Aucune clé ne correspond", field="key")
    assert operator_message(error, key='"absent00"') == 'no API key matches "absent00"'


def test_an_unknown_error_still_reads_in_english_with_its_code_and_field():
    error = BadUserInput("Un élément apparaît deux fois.", field="items")
    assert operator_message(error) == "invalid value (BAD_USER_INPUT, field items)"
    assert operator_message(Conflict("Modifié entre-temps")) == (
        "refused: it conflicts with the current state (CONFLICT)"
    )


def test_a_sentence_missing_what_was_typed_falls_back_instead_of_failing():
    assert operator_message(NotFound("…", field="key")) == "not found (NOT_FOUND, field key)"


def test_every_bad_field_is_told():
    error = InvalidInput([BadUserInput("…", field="role"), BadUserInput("…", field="password")])
    assert operator_message(error) == (
        "unknown role: choose admin, editor, local-authority or partner; "
        "the password must be 12 to 256 characters long"
    )
