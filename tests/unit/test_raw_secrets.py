"""What the publish check takes for a raw secret in a flow, and what it leaves alone."""

from __future__ import annotations

import pytest

from schemas.flow import FlowDocument
from schemas.raw_secrets import looks_secret, raw_secret_problems


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("xoxb-123456789012-abcdefghijkl", ("text",)),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", ("url",)),
        ("sk_live_51HqLyjWDarjtT1zdp7dcABC", ("body", "note")),
        ("rk_test_51HqLyjWDarjtT1zdp7dcABC", ("query", "k")),
        ("sk-proj-abcdefghijklmnopqrstuvwx", ("body", "model_key")),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", ("headers", "X-Gh")),
        ("AKIAIOSFODNN7EXAMPLE", ("body", "aws")),
        ("SG.abcdefghijklmnopqr.abcdefghijklmnopqrstuv", ("body", "sendgrid")),
        ("Bearer abcdefgh12345678", ("headers", "Authorization")),
        ("token {{ vars.x }} Bearer abcdefgh12345678", ("body", "text")),
        ("Basic dXNlcjpwYXNzd29yZA==", ("headers", "Authorization")),
        ("abcd1234efgh", ("headers", "X-Api-Key")),
        ("hunter2hunter2", ("body", "password")),
        ("postgresql://app:s3cretpw@db.internal/crm", ("url",)),
        ("https://user:pa55word@example.com/hook", ("url",)),
        ("q9Zr7Tb2Lm4Xw8Vc1Nd6Hf3Jk5Pa0Ys", ("headers", "X-Signature")),
    ],
)
def test_a_raw_secret_is_recognised(text: str, keys: tuple[str, ...]) -> None:
    assert looks_secret(text, keys) is not None


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Bearer {{ vars.token }}", ("headers", "Authorization")),
        ("Basic {{ trigger.credentials }}", ("headers", "Authorization")),
        ("{{ vars.password }}", ("body", "password")),
        ("application/json", ("headers", "Content-Type")),
        ("550e8400-e29b-41d4-a716-446655440000", ("headers", "X-Request-Id")),
        ("flowdeck-crm-sync/1.0", ("headers", "User-Agent")),
        ("2026-12-05T08:00:00+00:00", ("headers", "X-Date")),
        ("https://example.com/leads/{{ contact.id }}", ("url",)),
        ("https://{{ vars.user }}:{{ vars.pw }}@example.com/", ("url",)),
        ("Thanks {{ contact.name }}, your order ships today.", ("body",)),
        ("ask-for-it", ("headers", "X-Token")),
        ("short", ("body", "token")),
        ("A sentence that happens to be long and is in a header", ("headers", "X-Note")),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ("headers", "X-Pad")),
        ("Idempotency-Key", ("idempotency_header",)),
    ],
)
def test_ordinary_and_templated_values_are_left_alone(text: str, keys: tuple[str, ...]) -> None:
    assert looks_secret(text, keys) is None


def test_the_walk_covers_every_step_type_and_the_flow_variables() -> None:
    document = FlowDocument.model_validate(
        {
            "start": "a",
            "variables": {"crm_token": "Bearer abcdefgh12345678"},
            "nodes": [
                {
                    "id": "a",
                    "type": "set",
                    "config": {"assign": {"key": "sk_live_51HqLyjWDarjtT1zdp7dcABC"}},
                    "transitions": {"next": "b"},
                },
                {
                    "id": "b",
                    "type": "email",
                    "config": {
                        "to": "a@example.com",
                        "subject": "Hi",
                        "body": "xoxp-1234567890-abc",
                    },
                },
            ],
        }
    )
    paths = [p.path for p in raw_secret_problems(document)]
    assert paths == [
        "$.variables.crm_token",
        "$.nodes[0].config.assign.key",
        "$.nodes[1].config.body",
    ]
