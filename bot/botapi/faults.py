"""Fault switches: make the simulated Telegram slow, rate-limited, failing, blocked or gone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from http import HTTPStatus

from bot.botapi.errors import ApiError, forbidden

# Without an explicit method set, armed faults leave the update plumbing alone so tests stay
# predictable; an outage or a hang hits it too.
PLUMBING = frozenset({"getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "getMe"})
SERVER_ERROR_TEXTS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def status_text(status: int) -> str:
    """The reason phrase for an error status, as Telegram (or a proxy) words it."""
    if status in SERVER_ERROR_TEXTS:
        return SERVER_ERROR_TEXTS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Server Error"


def proxy_page(status: int) -> str:
    """The HTML error page nginx shows when the service behind it does not answer."""
    title = f"{status} {status_text(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


@dataclass(frozen=True)
class Outage:
    """Every matching call fails with `status` until the outage ends; `html` is a proxy's page
    instead of Telegram's JSON envelope."""

    status: int
    html: bool
    methods: frozenset[str] | None

    def matches(self, method: str) -> bool:
        """Whether the outage hits a call of `method` (every method when no set was given)."""
        return self.methods is None or method in self.methods

    def error(self) -> ApiError:
        """The JSON error a call gets when the outage is not an HTML page."""
        return ApiError(self.status, status_text(self.status))


@dataclass
class _Hang:
    """Matching calls wait unanswered until `over` is set."""

    methods: frozenset[str] | None
    over: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str) -> bool:
        """Whether a call of `method` hangs (every method when no set was given)."""
        return self.methods is None or method in self.methods


@dataclass
class _Armed:
    """A fault that hits the next `remaining` matching calls (to one chat, if `chat_id`)."""

    remaining: int
    methods: frozenset[str] | None
    error: ApiError
    chat_id: int | None = None

    def matches(self, method: str, chat_id: object = None) -> bool:
        """Whether this fault applies to a call of `method` (to `chat_id`)."""
        if self.remaining <= 0:
            return False
        if self.chat_id is not None and str(chat_id) != str(self.chat_id):
            return False
        if self.methods is None:
            return method not in PLUMBING
        return method in self.methods


@dataclass
class Faults:
    """Switches a test flips to see how the bot copes with Telegram misbehaving."""

    latency: float = 0.0
    blocked: set[int] = field(default_factory=set)
    held: int = 0  # calls waiting in a hang right now
    _armed: list[_Armed] = field(default_factory=list)
    _outage: Outage | None = None
    _hang: _Hang | None = None

    @property
    def hanging(self) -> bool:
        """Whether a hang is in force."""
        return self._hang is not None

    def rate_limit(
        self,
        count: int,
        retry_after: int = 1,
        methods: set[str] | None = None,
        *,
        chat_id: int | None = None,
    ) -> None:
        """The next `count` matching calls (to `chat_id`, if given) get 429 with
        parameters.retry_after."""
        error = ApiError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )
        self._arm(count, methods, error, chat_id)

    def server_error(
        self,
        count: int,
        status: int = 502,
        methods: set[str] | None = None,
        *,
        chat_id: int | None = None,
    ) -> None:
        """The next `count` matching calls (to `chat_id`, if given) get this 5xx status."""
        error = ApiError(status, SERVER_ERROR_TEXTS.get(status, "Server Error"))
        self._arm(count, methods, error, chat_id)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: send*/edit* to their chat get 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocked the bot."""
        self.blocked.discard(user_id)

    def outage(
        self, status: int = 502, *, html: bool = True, methods: set[str] | None = None
    ) -> None:
        """Every matching call (getUpdates too, without `methods`) fails with `status` until
        `end_outage()`; `html` answers nginx's error page, as a proxy before Telegram does."""
        self._outage = Outage(status, html, frozenset(methods) if methods else None)

    def end_outage(self) -> None:
        """Telegram is reachable again."""
        self._outage = None

    def hang(self, *, methods: set[str] | None = None) -> None:
        """Matching calls (getUpdates too, without `methods`) get no answer and are not carried
        out, like a dead network path; when the hang ends, the waiting ones get a 502."""
        frozen = frozenset(methods) if methods else None
        if self._hang is None:
            self._hang = _Hang(frozen)
        else:
            self._hang.methods = frozen

    def end_hang(self) -> None:
        """New calls are answered again; the calls still waiting fail with a 502."""
        if self._hang is not None:
            self._hang.over.set()
            self._hang = None

    def clear(self) -> None:
        """Switch every fault off."""
        self.latency = 0.0
        self.blocked.clear()
        self._armed.clear()
        self.end_outage()
        self.end_hang()

    def outage_for(self, method: str) -> Outage | None:
        """The outage a call of `method` fails with, if any."""
        if self._outage is not None and self._outage.matches(method):
            return self._outage
        return None

    async def hold(self, method: str) -> bool:
        """Wait while a hang applies to a call of `method`; True when the call was held."""
        hang = self._hang
        if hang is None or not hang.matches(method):
            return False
        self.held += 1
        try:
            await hang.over.wait()
        finally:
            self.held -= 1
        return True

    def _arm(
        self, count: int, methods: set[str] | None, error: ApiError, chat_id: int | None = None
    ) -> None:
        """Queue a fault for the next matching calls."""
        frozen = frozenset(methods) if methods else None
        self._armed.append(_Armed(count, frozen, error, chat_id))

    def check(self, method: str, chat_id: object) -> None:
        """Raise the error a call should fail with, if any fault applies."""
        for armed in self._armed:
            if armed.matches(method, chat_id):
                armed.remaining -= 1
                self._armed = [a for a in self._armed if a.remaining > 0]
                raise ApiError(
                    armed.error.status, armed.error.description, retry_after=armed.error.retry_after
                )
        if chat_id in self.blocked and method.startswith(("send", "edit", "copy", "forward")):
            raise forbidden("bot was blocked by the user")
