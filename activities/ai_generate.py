"""The `ai_generate` step: ask a language model, through an `openai` connection.

Text or JSON: with `output: json` the endpoint is asked for a JSON object and the answer
must parse, and match the step's `json_schema` when it has one. An answer that does not is
a failure of the attempt that the step's `retry` retries (the model samples anew each time;
3 attempts by default, `retry.max_attempts: 1` for none), then the step's `error` port.
"""

from __future__ import annotations

from typing import Any

from activities.ai_chat import complete, invalid_answer, load_endpoint, parse_json_answer
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from schemas.ai_prompts import chat_body
from schemas.execution import ActionOutput
from schemas.flow import AiGenerateConfig
from schemas.json_schema import UnusableSchema, instance_problems


@handles("ai_generate")
async def perform_ai_generate(ctx: StepContext) -> ActionOutput:
    config = parse_config(AiGenerateConfig, ctx)
    endpoint = await load_endpoint(ctx, config.connection, model=config.model)
    body = chat_body(config, model=endpoint.model)
    answer = await complete(endpoint, body)
    output: Any = answer.content
    if config.output == "json":
        output = parse_json_answer(answer, endpoint)
        if config.json_schema is not None:
            try:
                problems = instance_problems(config.json_schema, output)
            except UnusableSchema as exc:
                raise step_error(str(exc), type=INVALID_CONFIG, retryable=False) from None
            if problems:
                message = "the model's answer does not match json_schema: " + "; ".join(problems)
                raise invalid_answer(endpoint, message)
    return ActionOutput(port="success", result={"output": output, **answer.record(endpoint)})
