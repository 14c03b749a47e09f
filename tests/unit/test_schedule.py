"""The cron expressions a schedule trigger accepts, checked before anything is stored."""

from __future__ import annotations

import pytest

from schemas.schedule import check_cron, execution_id_for_firing


@pytest.mark.parametrize(
    "cron",
    [
        "0 9 * * mon-fri",
        "*/15 * * * *",
        "0 0-23/2 * * *",
        "5,10,15 9 * * MON,wed",
        "0 9 1-7 * mon",
        "0 9 * JAN-DEC 7",
        "0 9 29 2 *",
        "@daily",
        "  30   18 * * *  ",
    ],
)
def test_crons_that_fire_are_accepted(cron: str) -> None:
    assert check_cron(cron) == " ".join(cron.split())  # stored trimmed


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 9 * *", "5 fields"),
        ("0 9 * * * 2027", "5 fields"),
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("0 24 * * *", "hour: 24 is outside 0-23"),
        ("0 9 0 * *", "day of month: 0 is outside 1-31"),
        ("0 9 * 13 *", "month: 13 is outside 1-12"),
        ("0 9 * * 8", "day of week: 8 is outside 0-7"),
        ("0 9 * * funday", "not a number or a name"),
        ("0 9 5/2 * *", "a step goes with `*` or a range"),
        ("*/0 * * * *", "not a positive number"),
        ("0 18-9 * * *", "runs backwards"),
        ("0 9 31 2 *", "would never fire"),
        ("0 9 31 apr,jun *", "would never fire"),
        ("CRON_TZ=Asia/Kolkata 0 9 * * *", "`timezone`"),
        ("@midnight", "5 fields"),
    ],
)
def test_crons_that_cannot_fire_say_why(cron: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_cron(cron)
    assert says in str(refused.value)


def test_a_firing_always_names_the_same_execution() -> None:
    first = execution_id_for_firing("scheduled-abc-2027-01-01T09:00:00Z")
    assert first == execution_id_for_firing("scheduled-abc-2027-01-01T09:00:00Z")
    assert first != execution_id_for_firing("scheduled-abc-2027-01-02T09:00:00Z")
    assert len(first) == 32 and int(first, 16) >= 0
