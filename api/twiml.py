"""TwiML from a call's answer (`schemas.call.TurnAnswer`), built with the twilio library.

Every callback points back at `/webhooks/twilio/voice/turn` with the execution, the turn it
answers and what happened (`event`), so the turn handler needs no lookup to find the call's
workflow, and a retried request is recognisably the same turn. A call routed by the API
(`POST /api/departments/route`) has no turns: its `<Dial>` or `<Enqueue>` reports to
`/webhooks/twilio/voice/routed?entry=<queue entry>` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_never
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from schemas.call import (
    Dial,
    Enqueue,
    Fallback,
    Gather,
    Hangup,
    Play,
    Record,
    Redirect,
    Routed,
    Say,
    TurnAnswer,
    TurnEvent,
    Verb,
)

VOICE_PATH = "/webhooks/twilio/voice"
TURN_PATH = "/webhooks/twilio/voice/turn"
WAIT_PATH = "/webhooks/twilio/voice/wait"
ROUTED_PATH = "/webhooks/twilio/voice/routed"
HOLD_MESSAGE = "Please hold."


def public_url(base_url: str, path: str) -> str:
    """`path` (with its query) under our public base URL, which Twilio calls back."""
    return f"{base_url.rstrip('/')}{path}"


def turn_url(base_url: str, *, execution_id: str, turn: int, event: TurnEvent) -> str:
    query = urlencode({"execution": execution_id, "turn": turn, "event": event})
    return public_url(base_url, f"{TURN_PATH}?{query}")


def _say(target: Any, verb: Say | Play) -> None:
    """Into the response, or into a `<Gather>` (whose prompt a key press interrupts)."""
    if isinstance(verb, Play):
        target.play(verb.url)
        return
    options = {k: v for k, v in (("voice", verb.voice), ("language", verb.language)) if v}
    target.say(verb.text, **options)


@dataclass(frozen=True)
class _Urls:
    """Where an answer's callbacks go: our public base URL, and the execution's turns."""

    base: str
    execution_id: str

    def turn(self, turn: int, event: TurnEvent) -> str:
        return turn_url(self.base, execution_id=self.execution_id, turn=turn, event=event)

    def at(self, path: str) -> str:
        return public_url(self.base, path)


def render(answer: TurnAnswer, *, base_url: str, execution_id: str) -> str:
    """The answer as a TwiML document."""
    response = VoiceResponse()
    urls = _Urls(base=base_url, execution_id=execution_id)
    for verb in answer.verbs:
        _verb(response, verb, urls)
    return str(response)


def _verb(response: VoiceResponse, verb: Verb, urls: _Urls) -> None:
    match verb:
        case Say() | Play():
            _say(response, verb)
        case Gather():
            options: dict[str, object] = {
                "input": verb.input,
                "action": urls.turn(verb.turn, "input"),
                "method": "POST",
                "timeout": verb.timeout_s,
            }
            if verb.num_digits:
                options["num_digits"] = verb.num_digits
            if verb.finish_on_key is not None:
                options["finish_on_key"] = verb.finish_on_key
            if verb.language:
                options["language"] = verb.language
            if verb.hints:
                options["hints"] = verb.hints
            gather = response.gather(**options)
            for prompt in verb.prompt:
                _say(gather, prompt)
        case Record():
            response.record(
                action=urls.turn(verb.turn, "recorded"),
                method="POST",
                max_length=verb.max_length_s,
                play_beep=verb.play_beep,
            )
        case Dial():
            dial = response.dial(
                action=urls.turn(verb.turn, "dial"),
                method="POST",
                timeout=verb.timeout_s,
                caller_id=verb.caller_id,
                record="record-from-answer" if verb.record else None,
            )
            if verb.client:
                dial.client(verb.client)
            else:
                dial.number(verb.number)
        case Enqueue():
            response.enqueue(
                verb.queue,
                action=urls.turn(verb.turn, "queue"),
                method="POST",
                wait_url=urls.at(WAIT_PATH),
                wait_url_method="POST",
            )
        case Redirect():
            response.redirect(urls.turn(verb.turn, verb.event), method="POST")
        case Hangup():
            response.hangup()
        case Fallback():
            query = {"fallback": "true"}
            if verb.environment != "production":
                query["environment"] = verb.environment
            response.redirect(urls.at(f"{VOICE_PATH}?{urlencode(query)}"), method="POST")
        case _:
            assert_never(verb)


def hold(*, base_url: str, execution_id: str, turn: int, first: bool) -> str:
    """Twilio waits 15 s at most: say so once, then come back for the same turn."""
    response = VoiceResponse()
    if first:
        response.say(HOLD_MESSAGE)
    response.pause(length=1)
    response.redirect(
        turn_url(base_url, execution_id=execution_id, turn=turn, event="hold"), method="POST"
    )
    return str(response)


def message_and_hangup(text: str) -> str:
    """For a call nothing answers: say why, and hang up."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def hold_music(music_url: str | None) -> str:
    """What a queued caller hears while waiting (the `<Enqueue>`'s waitUrl)."""
    response = VoiceResponse()
    if music_url:
        response.play(music_url, loop=0)
    else:
        response.say("Thank you for waiting. An agent will be with you shortly.")
        response.pause(length=10)
    return str(response)


def routed_url(base_url: str, *, queue_entry_id: str, agent_id: str | None = None) -> str:
    """Where a routed call's `<Dial>` (naming the agent dialled) or `<Enqueue>` reports."""
    query = {"entry": queue_entry_id} | ({"agent": agent_id} if agent_id else {})
    return public_url(base_url, f"{ROUTED_PATH}?{urlencode(query)}")


def routed(routed: Routed, *, base_url: str, notice: str | None = None) -> str:
    """A call routed by the API: dial the agent, or (after `notice`) wait in the queue with
    our hold music. Either way Twilio reports the end to the entry's `ROUTED_PATH`, which
    frees the agent."""
    assert routed.queue_entry_id is not None
    response = VoiceResponse()
    if notice:
        response.say(notice)
    if routed.action == "enqueue":
        response.enqueue(
            routed.queue,
            action=routed_url(base_url, queue_entry_id=routed.queue_entry_id),
            method="POST",
            wait_url=public_url(base_url, WAIT_PATH),
            wait_url_method="POST",
        )
        return str(response)
    action = routed_url(base_url, queue_entry_id=routed.queue_entry_id, agent_id=routed.agent_id)
    dial = response.dial(
        action=action, method="POST", timeout=routed.timeout_s, caller_id=routed.caller_id
    )
    if routed.number:
        dial.number(routed.number)
    else:
        dial.client(routed.client)
    return str(response)
