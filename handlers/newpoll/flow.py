"""A guided flow whose step lives in the database, so any process continues it.

Shaped like python-telegram-bot's ConversationHandler (entry points, a table of states, and
fallbacks; a callback returns the next state, `END`, or None to stay), but the state is the
`step` of the person's draft of `kind`, which the gate reads with their profile for each
update (`bot.chat.context.STEPS`). A conversation handler keeps its states in one process's
memory, so a second process could not continue a flow the first one began; here nothing of
it stays in memory between updates. What the steps store themselves (`states.save`) is the
step; the flow only stores one a callback returned without saving it, and drops the draft at
`END`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler

from bot.chat.context import STEPS, Ctx
from handlers.newpoll.states import END
from storage import drafts

App = Application[Any, Any, Any, Any, Any, Any]
Handler = BaseHandler[Update, Any, Any]


class Flow(BaseHandler[Update, Any, Any]):
    def __init__(
        self,
        *,
        kind: str,
        steps: dict[int, dict[str, str]],
        entry_points: Sequence[Handler],
        states: dict[int, Sequence[Handler]],
        fallbacks: Sequence[Handler],
    ) -> None:
        super().__init__(_never)
        self.kind = kind
        self.steps = steps
        self.entry_points = list(entry_points)
        self.states = {state: list(handlers) for state, handlers in states.items()}
        self.fallbacks = list(fallbacks)

    def state_of(self, update: Update) -> int | None:
        user = update.effective_user
        step = self.steps.get(user.id, {}).get(self.kind) if user else None
        return int(step) if step is not None and step.lstrip("-").isdigit() else None

    def check_update(self, update: object) -> tuple[Handler, object, int | None] | None:
        """Which handler of the table takes this update: an entry point (also in the middle
        of the flow: /newpoll starts again), else one of the current state, else a fallback;
        None when the flow has nothing to do with it (other features may)."""
        if not isinstance(update, Update) or update.effective_user is None:
            return None
        state = self.state_of(update)
        candidates = list(self.entry_points)
        if state is not None and state != END:
            candidates += self.states.get(state, []) + self.fallbacks
        for handler in candidates:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check, state
        return None

    async def handle_update(
        self,
        update: Update,
        application: App,
        check_result: tuple[Handler, object, int | None],
        context: Any,
    ) -> None:
        handler, check, state = check_result
        new_state = await handler.handle_update(update, application, check, context)
        mine = self.steps.setdefault(update.effective_user.id, {})
        stored = mine.get(self.kind)  # what the step stored itself (`states.save`, `drop`)
        if new_state is None or new_state == state or stored == str(new_state):
            return
        if new_state == END and stored is None:
            return
        ctx: Ctx = context
        async with ctx.db.begin() as session:
            if new_state == END:
                await drafts.drop_drafts(session, address=ctx.profile.address, kind=self.kind)
            else:
                await drafts.set_step(
                    session, address=ctx.profile.address, kind=self.kind, step=str(new_state)
                )
        if new_state == END:
            mine.pop(self.kind, None)
        else:
            mine[self.kind] = str(new_state)


async def _never(update: object, context: Any) -> None:  # the table's handlers run instead
    raise AssertionError("Flow runs the handlers of its table")


def register(app: App, flow: Flow) -> None:
    app.add_handler(flow)


def steps_of(app: App) -> dict[int, dict[str, str]]:
    return app.bot_data.setdefault(STEPS, {})
