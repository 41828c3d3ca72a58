"""Fault switches: make the simulated Telegram slow, rate-limited, failing or blocked."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.botapi.errors import ApiError, forbidden

# Without an explicit method set, faults leave the update plumbing alone so tests stay predictable.
PLUMBING = frozenset({"getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "getMe"})
SERVER_ERROR_TEXTS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class _Armed:
    """A fault that hits the next `remaining` matching calls."""

    remaining: int
    methods: frozenset[str] | None
    error: ApiError

    def matches(self, method: str) -> bool:
        """Whether this fault applies to a call of `method`."""
        if self.remaining <= 0:
            return False
        if self.methods is None:
            return method not in PLUMBING
        return method in self.methods


@dataclass
class Faults:
    """Switches a test flips to see how the bot copes with Telegram misbehaving."""

    latency: float = 0.0
    blocked: set[int] = field(default_factory=set)
    _armed: list[_Armed] = field(default_factory=list)

    def rate_limit(self, count: int, retry_after: int = 1, methods: set[str] | None = None) -> None:
        """The next `count` matching calls get 429 with parameters.retry_after."""
        error = ApiError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )
        self._arm(count, methods, error)

    def server_error(self, count: int, status: int = 502, methods: set[str] | None = None) -> None:
        """The next `count` matching calls get this 5xx status."""
        self._arm(count, methods, ApiError(status, SERVER_ERROR_TEXTS.get(status, "Server Error")))

    def block(self, user_id: int) -> None:
        """The user blocked the bot: send*/edit* to their chat get 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocked the bot."""
        self.blocked.discard(user_id)

    def clear(self) -> None:
        """Switch every fault off."""
        self.latency = 0.0
        self.blocked.clear()
        self._armed.clear()

    def _arm(self, count: int, methods: set[str] | None, error: ApiError) -> None:
        """Queue a fault for the next matching calls."""
        self._armed.append(_Armed(count, frozenset(methods) if methods else None, error))

    def check(self, method: str, chat_id: object) -> None:
        """Raise the error a call should fail with, if any fault applies."""
        for armed in self._armed:
            if armed.matches(method):
                armed.remaining -= 1
                self._armed = [a for a in self._armed if a.remaining > 0]
                raise ApiError(
                    armed.error.status, armed.error.description, retry_after=armed.error.retry_after
                )
        if chat_id in self.blocked and method.startswith(("send", "edit", "copy", "forward")):
            raise forbidden("bot was blocked by the user")
