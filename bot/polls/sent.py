"""Polls as they were sent, kept per process: a sent poll's questions never change, so a tap
reads none of it from the database (its status is read in the tap's unit of work)."""

from __future__ import annotations

from collections import OrderedDict

from storage import polls
from storage.db import Database
from storage.polls import PollView

SIZE = 512
"""Polls kept (least recently used go first): far more than are open at once."""


class SentPolls:
    def __init__(self, db: Database, size: int = SIZE) -> None:
        self.db = db
        self.size = size
        self._views: OrderedDict[int, PollView] = OrderedDict()
        self._poll_of: dict[int, int] = {}

    async def of_question(self, question_id: int) -> PollView | None:
        """The poll that holds the question, or None when there is none (a forged button)."""
        poll_id = self._poll_of.get(question_id)
        if poll_id is not None and poll_id in self._views:
            self._views.move_to_end(poll_id)
            return self._views[poll_id]
        async with self.db.read() as session:
            poll_id = await polls.poll_of_question(session, question_id=question_id)
            view = await polls.load_poll(session, poll_id=poll_id) if poll_id else None
        if view is not None:
            self._keep(view)
        return view

    def _keep(self, view: PollView) -> None:
        self._views[view.poll.id] = view
        self._poll_of.update((question.id, view.poll.id) for question in view.questions)
        while len(self._views) > self.size:
            _, gone = self._views.popitem(last=False)
            for question in gone.questions:
                self._poll_of.pop(question.id, None)
