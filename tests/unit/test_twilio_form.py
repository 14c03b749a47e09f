"""Numbers in Twilio's webhook forms, as the API reads them."""

from __future__ import annotations

from api.services.twilio_webhooks import form_int


def test_a_twilio_number_out_of_any_column_range_is_taken_as_absent() -> None:
    assert form_int("42") == 42
    assert form_int(None) is None and form_int("") is None and form_int("soon") is None
    assert form_int("-3") is None
    assert form_int("9" * 30) is None  # stored, it would overflow the database's integer
