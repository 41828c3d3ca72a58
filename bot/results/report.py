"""A poll's numbers, loaded once for every view of them: text, breakdown, chart, export."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.results.hearing import hearing_section
from bot.results.publish import Published, poll_results, publish_question
from bot.texts import Texts, texts_for
from storage import hearing, polls, tallies
from storage.db import Database
from storage.polls import PollView
from storage.tallies import QuestionTally


@dataclass
class Report:
    view: PollView
    tallies: dict[int, QuestionTally]
    asked: int
    answered: int
    groups: dict[str, hearing.Groups] = field(default_factory=dict)
    """Asked and answered per group of each tag kind (whom the council hears)."""

    @property
    def k(self) -> int:
        return self.view.council.privacy_threshold

    @property
    def enough(self) -> bool:
        return self.answered >= self.k

    def published(self, t: Texts, *, plain: bool = False) -> list[Published]:
        """Every question as it may be shown."""
        return [
            publish_question(
                t, question, self.tallies.get(question.id, QuestionTally()), k=self.k, plain=plain
            )
            for question in self.view.questions
        ]

    @property
    def purged(self) -> bool:
        """True when the answers were deleted after the retention period (counts stay)."""
        return self.view.poll.purged_at is not None

    def text(self, t: Texts) -> str:
        text = poll_results(
            t, self.view, self.tallies, asked=self.asked, answered=self.answered, k=self.k
        ) + hearing_section(t, self.groups, k=self.k, answered=self.answered)
        return f"{text}\n\n{t('results.purged')}" if self.purged else text


async def load_report(db: Database, *, poll_id: int, language: str | None = None) -> Report | None:
    """The poll's numbers, its texts in `language` when it has that language (else its first)."""
    async with db.read() as session:
        view = await polls.load_poll(session, poll_id=poll_id)
        if view is None:
            return None
        view = view.in_language(language) if language else view
        summary = view.poll.summary
        if summary is not None:  # closed: its counts were kept then (and outlive the answers)
            texts = await tallies.open_texts(session, poll_id=poll_id)
            return Report(
                view=view,
                tallies=tallies.from_summary(summary["questions"], texts),
                asked=summary["asked"],
                answered=summary["respondents"],
                groups=await hearing.groups_of(session, poll_id=poll_id),
            )
        return Report(
            view=view,
            tallies=await tallies.tally_poll(session, poll_id=poll_id),
            asked=await polls.asked_count(session, poll_id=poll_id),
            answered=await tallies.respondents(session, poll_id=poll_id),
            groups=await hearing.groups_of(session, poll_id=poll_id),
        )


async def results_text(db: Database, *, poll_id: int, language: str) -> str | None:
    """The results of a poll in `language`, with the council's privacy threshold applied."""
    report = await load_report(db, poll_id=poll_id, language=language)
    return report.text(texts_for(language)) if report else None
