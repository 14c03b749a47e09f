"""Play Twilio's part in a phone call against a running Flowdeck: signed webhooks, real TwiML.

`SimulatedCall` posts what Twilio would post (form fields, `X-Twilio-Signature` computed by
the twilio library's `RequestValidator` with the auth token), parses the TwiML that comes
back, and follows it as Twilio would: a `<Redirect>` is fetched, a `<Gather>` waits for
`press()`/`say()` or `silence()`, a `<Dial>` for `dial_ends()`, an `<Enqueue>` for
`queue_ends()`. The tests, `bench/call_turns.py` and `flowdeck call` use it; any client with
httpx's `post(url, data=, headers=)` carries the requests (the tests: httpx on the app; the
bench: aiohttp, whose own cost per request is smaller).
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

VERBS_THAT_WAIT = ("Gather", "Record", "Dial", "Enqueue")


class Answered(Protocol):
    """What Twilio reads of an answer (an `httpx.Response` is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


class Poster(Protocol):
    """The HTTP client a call posts with (an `httpx.AsyncClient` is one)."""

    async def post(
        self, url: str, *, data: dict[str, str], headers: dict[str, str]
    ) -> Answered: ...


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


@dataclass
class Twiml:
    """One TwiML answer, parsed."""

    text: str
    root: ET.Element

    @classmethod
    def parse(cls, text: str) -> Twiml:
        # The TwiML comes from the Flowdeck under test, not from a stranger.
        return cls(text=text, root=ET.fromstring(text))  # noqa: S314

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def first(self, tag: str) -> ET.Element | None:
        return next((child for child in self.root if child.tag == tag), None)

    def spoken(self) -> list[str]:
        """Everything `<Say>` says, in order, prompts inside a `<Gather>` included."""
        return [(e.text or "").strip() for e in self.root.iter("Say")]

    @property
    def waiting_on(self) -> ET.Element | None:
        """The verb the caller is now in (Gather, Record, Dial, Enqueue), if any."""
        return next((c for c in self.root if c.tag in VERBS_THAT_WAIT), None)

    @property
    def hangs_up(self) -> bool:
        return self.first("Hangup") is not None


@dataclass
class SimulatedCall:
    """One call, as Twilio would drive it, against Flowdeck at `client`'s base URL.

    `public_url` is the URL Twilio is configured with (what signatures are computed over);
    requests go to the same path and query on `client`.
    """

    client: Poster
    auth_token: str
    public_url: str
    to: str
    from_: str
    call_sid: str = field(default_factory=new_call_sid)
    direction: str = "inbound"
    twiml: Twiml | None = None
    history: list[Twiml] = field(default_factory=list)
    follow_redirects: bool = True

    # --- what Twilio sends ---------------------------------------------------------------

    def _fields(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        fields = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.from_,
            "To": self.to,
            "Direction": self.direction,
            "CallStatus": "in-progress",
        }
        fields.update(extra or {})
        return fields

    def sign(self, url: str, fields: Mapping[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, dict(fields)))

    async def post(
        self, url: str, extra: Mapping[str, str] | None = None, *, signature: str | None = None
    ) -> Answered:
        """POST to a full public URL (as Twilio would), signed unless a signature is given."""
        fields = self._fields(extra)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "X-Twilio-Signature": signature if signature is not None else self.sign(url, fields)
        }
        return await self.client.post(path, data=fields, headers=headers)

    async def _follow(self, response: Answered) -> Twiml:
        if response.status_code != 200:
            raise AssertionError(f"{response.status_code}: {response.text}")
        twiml = Twiml.parse(response.text)
        self.history.append(twiml)
        self.twiml = twiml
        redirect = twiml.first("Redirect")
        if self.follow_redirects and redirect is not None and twiml.waiting_on is None:
            # A hold answer: Twilio plays it and fetches the redirect at once.
            return await self._follow(await self.post((redirect.text or "").strip()))
        return twiml

    # --- the caller ----------------------------------------------------------------------

    async def start(
        self, *, path: str = "/webhooks/twilio/voice", answered_by: str | None = None
    ) -> Twiml:
        """The phone rings (or a call we placed is answered): Twilio asks the voice URL what
        to do. `answered_by`: what Twilio's machine detection decided (AnsweredBy)."""
        extra = {"AnsweredBy": answered_by} if answered_by else None
        return await self._follow(await self.post(self.public_url.rstrip("/") + path, extra))

    async def redirect(self) -> Twiml:
        """Twilio has played the answer and follows its `<Redirect>` (when not following
        redirects by itself, `follow_redirects=False`)."""
        redirect = self.twiml.first("Redirect") if self.twiml is not None else None
        if redirect is None:
            raise AssertionError("the call's answer has no <Redirect>")
        return await self._follow(await self.post((redirect.text or "").strip()))

    def _action(self, tag: str) -> str:
        if self.twiml is None or self.twiml.waiting_on is None:
            raise AssertionError("the call is not waiting on anything")
        verb = self.twiml.waiting_on
        if verb.tag != tag:
            raise AssertionError(
                f"the call is in a <{verb.tag}>, not a <{tag}>:\n{self.twiml.text}"
            )
        return verb.attrib["action"]

    async def press(self, digits: str) -> Twiml:
        return await self._follow(await self.post(self._action("Gather"), {"Digits": digits}))

    async def say(self, speech: str, confidence: float = 0.9) -> Twiml:
        fields = {"SpeechResult": speech, "Confidence": str(confidence)}
        return await self._follow(await self.post(self._action("Gather"), fields))

    async def silence(self) -> Twiml:
        """The caller enters nothing: Twilio moves past the `<Gather>` to the next verb."""
        self._action("Gather")
        return await self._past_waiting_verb()

    async def record(self, recording_url: str, duration_s: int, recording_sid: str) -> Twiml:
        fields = {
            "RecordingUrl": recording_url,
            "RecordingSid": recording_sid,
            "RecordingDuration": str(duration_s),
        }
        return await self._follow(await self.post(self._action("Record"), fields))

    async def record_nothing(self) -> Twiml:
        self._action("Record")
        return await self._past_waiting_verb()

    async def dial_ends(self, status: str, duration_s: int = 0) -> Twiml:
        """The `<Dial>`ed party's leg ended (DialCallStatus)."""
        fields = {"DialCallStatus": status, "DialCallDuration": str(duration_s)}
        return await self._follow(await self.post(self._action("Dial"), fields))

    async def queue_ends(self, result: str, queue_time_s: int = 0) -> Twiml:
        """The caller left the `<Enqueue>`d queue (QueueResult)."""
        fields = {"QueueResult": result, "QueueTime": str(queue_time_s)}
        return await self._follow(await self.post(self._action("Enqueue"), fields))

    async def hang_up(self, duration_s: int = 30) -> Answered:
        """The caller hangs up: Twilio's status callback says the call completed."""
        url = self.public_url.rstrip("/") + "/webhooks/twilio/status"
        fields = {"CallStatus": "completed", "CallDuration": str(duration_s)}
        return await self.post(url, fields)

    async def _past_waiting_verb(self) -> Twiml:
        assert self.twiml is not None
        verbs = list(self.twiml.root)
        index = verbs.index(self.twiml.waiting_on)  # type: ignore[arg-type]
        for verb in verbs[index + 1 :]:
            if verb.tag == "Redirect":
                return await self._follow(await self.post((verb.text or "").strip()))
            if verb.tag == "Hangup":
                return self.twiml
        raise AssertionError(f"nothing follows the <{verbs[index].tag}>:\n{self.twiml.text}")


# --- a scripted or interactive caller (`flowdeck call`) -------------------------------------

Ask = Callable[[str], Awaitable[str]]


async def play(
    call: SimulatedCall,
    script: list[str],
    *,
    ask: Ask | None,
    say: Callable[[str], None],
    environment: str = "production",
) -> None:
    """Ring (the number's deployment in `environment`), then follow the TwiML: each verb the
    call waits in takes the next script step (`press:<digits>`, `say:<words>`, `silence`,
    `dial:<DialCallStatus>`, `queue:<QueueResult>`, `record:<url>`, `hangup`), or, with the
    script spent, asks."""
    steps = list(script)

    async def next_step(prompt: str) -> str:
        if steps:
            return steps.pop(0)
        if ask is None:
            return "hangup"
        return await ask(prompt)

    voice_path = "/webhooks/twilio/voice"
    if environment != "production":
        voice_path += "?" + urlencode({"environment": environment})
    twiml = await call.start(path=voice_path)
    while True:
        for text in twiml.spoken():
            say(f"  flow says: {text}")
        verb = twiml.waiting_on
        if verb is None:
            say("  the flow hung up" if twiml.hangs_up else "  the call ended")
            return
        hint = {
            "Gather": "keys (press:<digits>, say:<words>, silence)",
            "Dial": f"dialling {' '.join(t.text or '' for t in verb)} "
            "(dial:completed|no-answer|busy|failed)",
            "Enqueue": "waiting in the queue (queue:bridged when an agent picks up)",
            "Record": "recording (record:<audio url>, silence)",
        }[verb.tag]
        step = (await next_step(f"{hint}, or hangup> ")).strip()
        kind, _, value = step.partition(":")
        if kind == "hangup":
            await call.hang_up()
            say("  you hung up")
            return
        if kind == "press":
            twiml = await call.press(value)
        elif kind == "say":
            twiml = await call.say(value)
        elif kind == "silence":
            twiml = await (call.record_nothing() if verb.tag == "Record" else call.silence())
        elif kind == "dial":
            twiml = await call.dial_ends(value or "completed", duration_s=60)
        elif kind == "queue":
            twiml = await call.queue_ends(value or "bridged", queue_time_s=30)
        elif kind == "record":
            twiml = await call.record(value, 10, "RE" + secrets.token_hex(16))
        else:
            say(f"  not a step: {step!r}")
