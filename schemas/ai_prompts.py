"""What the AI steps send: the chat-completions request of an `ai_generate` or `ai_classify`
step, from its rendered config. The activities send it; the dry run shows it."""

from __future__ import annotations

import json
from typing import Any

from schemas.flow import AiClassifyConfig, AiGenerateConfig

JSON_INSTRUCTION = "Answer with one JSON object and nothing else."
CLASSIFY_ANSWER = (
    'Answer with one JSON object and nothing else: {"label": <one of the labels, exactly as '
    'written>, "confidence": <a number from 0 to 1>}.'
)


def generate_messages(config: AiGenerateConfig) -> list[dict[str, str]]:
    """The system prompt (told to answer in JSON, and to which schema, when the step wants
    JSON), then the prompt."""
    system = [config.system] if config.system else []
    if config.output == "json":
        system.append(JSON_INSTRUCTION)
        if config.json_schema is not None:
            schema = json.dumps(config.json_schema, separators=(",", ":"))
            system.append(f"It must match this JSON Schema: {schema}")
    messages = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    return [*messages, {"role": "user", "content": config.prompt}]


def classify_messages(config: AiClassifyConfig) -> list[dict[str, str]]:
    """The instructions (the labels, the step's own instructions, the answer's shape), then
    the text to classify as the user message."""
    labels = json.dumps(config.labels, ensure_ascii=False)
    system = [f"Classify the user's message into exactly one of these labels: {labels}."]
    if config.instructions:
        system.append(config.instructions)
    system.append(CLASSIFY_ANSWER)
    return [
        {"role": "system", "content": "\n\n".join(system)},
        {"role": "user", "content": config.text},
    ]


def chat_body(config: AiGenerateConfig | AiClassifyConfig, *, model: str | None) -> dict[str, Any]:
    """The request's body (`model`: the step's, else its connection's)."""
    if isinstance(config, AiGenerateConfig):
        messages, json_answer = generate_messages(config), config.output == "json"
    else:
        messages, json_answer = classify_messages(config), True
    body: dict[str, Any] = {"model": model, "messages": messages}
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.max_tokens is not None:
        body["max_tokens"] = config.max_tokens
    if json_answer:
        body["response_format"] = {"type": "json_object"}
    return body


def simulated_result(
    step_type: str, rendered: dict[str, Any], outcome: str | None
) -> dict[str, Any]:
    """The dry run's result of an AI step, which calls nothing: an `ai_generate` has no
    `output` (the dry run's own variable of its `save_as` stands in), an `ai_classify` answers the
    label the dry run's `outcomes[<node id>]` names, else its first label, with confidence 1."""
    result: dict[str, Any] = {
        "connection": rendered.get("connection"),
        "model": rendered.get("model"),
        "simulated": True,
    }
    if step_type != "ai_classify":
        return result  # no `output`: a variable the dry run is given stands in for `save_as`
    labels = list(rendered.get("labels") or [])
    label = outcome if outcome in labels else next(iter(labels), None)
    return {**result, "label": label, "confidence": 1.0}
