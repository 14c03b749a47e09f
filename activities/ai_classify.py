"""The `ai_classify` step: a language model picks one of the step's labels for a text.

The model is asked for `{"label": ..., "confidence": ...}`; the step's result carries both
(`steps.<id>.label`, `steps.<id>.confidence`, 0 to 1), for a `split` after it to route on. A
label outside the list (compared ignoring case and surrounding spaces; the result carries the
list's own spelling), or an answer that is not that object, fails the attempt, which the
step's `retry` retries.
"""

from __future__ import annotations

import json
from typing import Any

from activities.ai_chat import (
    ChatEndpoint,
    complete,
    invalid_answer,
    load_endpoint,
    parse_json_answer,
)
from activities.step import StepContext, handles, parse_config
from schemas.ai_prompts import chat_body
from schemas.execution import ActionOutput
from schemas.flow import AiClassifyConfig


def label_of(answer: Any, labels: list[str], endpoint: ChatEndpoint) -> tuple[str, float]:
    """The label (in the list's spelling) and confidence of the model's answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("label"), str):
        raise invalid_answer(
            endpoint, f"the model's answer has no label: {json.dumps(answer)[:200]}"
        )
    wanted = answer["label"].strip().casefold()
    label = next((item for item in labels if item.strip().casefold() == wanted), None)
    if label is None:
        raise invalid_answer(
            endpoint,
            f"the model answered label {answer['label']!r}, which is not one of {labels}",
        )
    confidence = answer.get("confidence")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 <= confidence <= 1
    ):
        raise invalid_answer(
            endpoint, f"the model's confidence is not a number from 0 to 1: {confidence!r}"
        )
    return label, float(confidence)


@handles("ai_classify")
async def perform_ai_classify(ctx: StepContext) -> ActionOutput:
    config = parse_config(AiClassifyConfig, ctx)
    endpoint = await load_endpoint(ctx, config.connection, model=config.model)
    body = chat_body(config, model=endpoint.model)
    answer = await complete(endpoint, body)
    label, confidence = label_of(parse_json_answer(answer, endpoint), config.labels, endpoint)
    result = {"label": label, "confidence": confidence, **answer.record(endpoint)}
    return ActionOutput(port="success", result=result)
