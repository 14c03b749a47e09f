"""The `regex` condition runs in time linear in the text (RE2), with Python's meaning kept."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.conditions import Comparison
from schemas.evaluate import RegexError, evaluate


def holds(text: Any, pattern: str) -> bool:
    return evaluate(Comparison(var="vars.x", op="regex", value=pattern), {"vars": {"x": text}})


def test_a_pattern_that_backtracks_exponentially_in_python_answers_at_once() -> None:
    # Python's `re` needs about 4 s for 27 a's, twice that for each one more: 40 would be
    # nine hours, and a million never. RE2's time grows with the text only.
    assert holds("a" * 40 + "!", r"^(a+)+$") is False
    assert holds("a" * 1_000_000 + "!", r"^(a|aa)+$") is False
    assert holds("a" * 40, r"^(a+)+$") is True


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("Asha Rao", r"Rao", True),  # searched anywhere, as re.search
        ("Asha Rao", r"^Rao", False),
        ("I want a REFUND", r"(?i)refund", True),  # inline flags
        ("line one\nline two", r"(?m)^line two$", True),
        ("a\nb", r"(?s)a.b", True),
        ("a\nb", r"a.b", False),
        ("٣٤٥", r"^\d+$", True),  # Unicode digits, as Python's \d
        ("José", r"^\w+$", True),  # Unicode letters, as Python's \w
        ("José!", r"^[\w]+$", False),
        ("a\u00a0b", r"^a\sb$", True),  # a no-break space is space, as in Python
        ("ab", r"a\Sb", False),
        ("x-y", r"^x\Wy$", True),
        ("x-y", r"^x[^\w]y$", True),
        ("café", r"caf\u00e9", True),
        ("]", r"[]]", True),
        ("b2", r"^[[:alpha:]]\d$", True),
        ("abc\n", r"abc\Z", False),
        ("12", r"^\d{2}$", True),
        (1234, r"^\d{4}$", True),  # numbers are searched as their text
        (None, r".*", False),
        ("\ud800", r".", False),  # a lone surrogate cannot be searched: no match
    ],
)
def test_matching_means_what_it_meant_with_pythons_re(
    text: Any, pattern: str, expected: bool
) -> None:
    assert holds(text, pattern) is expected


def test_a_pattern_that_is_no_regex_is_false() -> None:
    assert holds("anything", r"([unclosed") is False


@pytest.mark.parametrize("pattern", [r"(\w+) \1", r"(?=refund)", r"(?<!not )happy"])
def test_a_python_pattern_re2_cannot_run_fails_loudly(pattern: str) -> None:
    """Validation refuses these; one saved before reaches a run and fails its step."""
    with pytest.raises(RegexError, match="cannot be used") as caught:
        holds("word word", pattern)
    assert isinstance(caught.value, ValueError)  # what the interpreter fails a pure step on
