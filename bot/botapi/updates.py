"""The update queue: pending updates, long polling and confirmation by the bot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

JSON = dict[str, object]

# Telegram leaves these out unless a bot asks for them in allowed_updates.
OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def update_type(update: JSON) -> str:
    """The kind of an update: the first key besides update_id."""
    return next((key for key in update if key != "update_id"), "unknown")


class UpdateQueue:
    """Updates waiting for the bot, in order, each with a future for its confirmation."""

    def __init__(self) -> None:
        self.pending: list[JSON] = []
        self.settled: Callable[[int], Awaitable[None]] | None = None
        """Set by a bot that confirms updates before it handled them (it stores them first):
        waits until it handled one, so `wait_confirmed` means "handled" as before."""
        self.busy: Callable[[], bool] | None = None
        """Set by such a bot too: True while it still handles what it confirmed."""
        self.allowed_updates: list[str] = []
        self.poller_busy = False
        self.closed = False
        self._next_id = 1
        self._confirmations: dict[int, asyncio.Future[None]] = {}
        self._changed = asyncio.Event()
        self.on_hand_out: Callable[[list[JSON]], None] | None = None
        """Called with every non-empty batch getUpdates hands out (for crash tests)."""

    def put(self, update: JSON) -> int:
        """Queue an update (assigning update_id when missing) and return its id."""
        if not isinstance(update.get("update_id"), int):
            update = {"update_id": self._next_id, **update}
        update_id = int(update["update_id"])  # type: ignore[call-overload]
        self._next_id = max(self._next_id, update_id + 1)
        self._confirmations[update_id] = asyncio.get_running_loop().create_future()
        self.pending.append(update)
        self._changed.set()
        return update_id

    def set_allowed(self, allowed: object) -> None:
        """Remember allowed_updates when the bot sent it (None keeps the previous list)."""
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]

    def is_allowed(self, update: JSON) -> bool:
        """Whether Telegram would deliver this update given allowed_updates."""
        kind = update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_TYPES

    def deliverable(self, limit: int = 100) -> list[JSON]:
        """The first pending updates, after dropping those the bot did not ask for."""
        for update in [u for u in self.pending if not self.is_allowed(u)]:
            reason = f"its type {update_type(update)!r} is not in allowed_updates"
            self._finish(
                [update], AssertionError(f"update {update['update_id']} was dropped: {reason}")
            )
        return self.pending[:limit]

    def hand_out(self, limit: int) -> list[JSON]:
        """What getUpdates returns: the deliverable updates, told to `on_hand_out` first."""
        batch = self.deliverable(limit)
        if batch and self.on_hand_out is not None:
            self.on_hand_out(batch)
        return batch

    def confirm_below(self, offset: int) -> None:
        """getUpdates with this offset: every update with a lower id is confirmed."""
        if offset < 0:
            self.keep_last(-offset)
            return
        self._finish([u for u in self.pending if int(u["update_id"]) < offset], None)  # type: ignore[call-overload]

    def confirm(self, update_id: int) -> None:
        """Mark one update as taken by the bot (webhook answered 2xx)."""
        self._finish([u for u in self.pending if u["update_id"] == update_id], None)

    def keep_last(self, count: int) -> None:
        """Negative offset: forget all but the last `count` updates, unconfirmed."""
        dropped = self.pending[: max(len(self.pending) - count, 0)]
        self.drop(dropped, "a negative getUpdates offset skipped it")

    def drop(self, updates: Iterable[JSON], reason: str) -> None:
        """Forget updates without confirmation; whoever waits on them gets an AssertionError."""
        for update in list(updates):
            self._finish(
                [update], AssertionError(f"update {update['update_id']} was dropped: {reason}")
            )

    def _finish(self, updates: list[JSON], error: AssertionError | None) -> None:
        """Remove updates from the queue and settle their futures."""
        for update in updates:
            self.pending.remove(update)
            future = self._confirmations.get(int(update["update_id"]))  # type: ignore[call-overload]
            if future is None or future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
                future.exception()  # retrieved here, so an unawaited drop logs no warning
        self._changed.set()

    async def wait_for_pending(self, within: float) -> None:
        """Long polling: return when an update is pending or the timeout has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self.deliverable(1) and not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def close(self) -> None:
        """The server stops: end every long poll now."""
        self.closed = True
        self._changed.set()

    async def wait_confirmed(self, update_id: int, within: float) -> None:
        """Wait until the bot confirmed the update; AssertionError on timeout or drop."""
        future = self._confirmations.get(update_id)
        if future is None:
            if self.settled is not None:
                await self.settled(update_id)
            return
        try:
            await asyncio.wait_for(asyncio.shield(future), within)
        except TimeoutError:
            raise AssertionError(
                f"update {update_id} was not confirmed by the bot within {within:g}s"
            ) from None
        finally:
            if future.done():
                self._confirmations.pop(update_id, None)
        if self.settled is not None:
            await self.settled(update_id)
