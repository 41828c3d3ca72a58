"""Retention: the answer-level data of a poll goes the configured number of days after it
closed; its counts stay, so the results read the same."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.botapi import LocalBotApi
from bot.scheduling.jobs import delete_old_answers
from storage.models import (
    Answer,
    Delivery,
    Poll,
    Respondent,
    RespondentTag,
    Role,
    Round,
    Voice,
    utcnow,
)
from tests.builders import answered_poll, make_invite, sign_up
from tests.e2e.conftest import RunningBot

QUESTIONS = [
    {
        "kind": "single",
        "text": "Hoe was het?",
        "options": ["Goed", "Slecht"],
        "voices": {"nl": {"file_id": "AwACAgQAAxk-voice-1", "duration": 4}},
    },
    {"kind": "open_text", "text": "Nog iets?"},
]
ANSWERS = [(("locatie:noord",), [1, "Prima"])] * 5 + [(("locatie:zuid",), [2, "Matig"])] * 5


async def rows_of(bot: RunningBot, poll_id: int) -> dict[str, int]:
    async with bot.db.read() as session:
        respondents = select(Respondent.id).where(Respondent.poll_id == poll_id)
        rounds = select(Round.id).where(Round.poll_id == poll_id)
        counts = {
            "respondents": select(func.count()).where(Respondent.poll_id == poll_id),
            "answers": select(func.count()).where(Answer.respondent_id.in_(respondents)),
            "tags": select(func.count()).where(RespondentTag.respondent_id.in_(respondents)),
            "deliveries": select(func.count()).where(Delivery.round_id.in_(rounds)),
            "voice notes": select(func.count()).where(Voice.poll_id == poll_id),
        }
        return {name: await session.scalar(query) for name, query in counts.items()}


async def closed_days_ago(bot: RunningBot, poll_id: int, days: int) -> None:
    async with bot.db.begin() as session:
        moment = utcnow() - timedelta(days=days)
        await session.execute(update(Poll).where(Poll.id == poll_id).values(closed_at=moment))


async def test_answers_go_after_the_retention_period_and_counts_stay(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = api.user(800)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    old = await answered_poll(bot.db, questions=QUESTIONS, answers=ANSWERS, asked=12)
    recent = await answered_poll(
        bot.db, questions=QUESTIONS, answers=ANSWERS, title="Nieuw", first_id=60_000
    )
    await closed_days_ago(bot, old, 181)
    await closed_days_ago(bot, recent, 179)
    await member.command("uitslag", str(old))
    before = member.last.text

    assert await delete_old_answers(bot.db, now=utcnow(), days=180) == 1

    gone = {"respondents": 0, "answers": 0, "tags": 0, "deliveries": 0, "voice notes": 0}
    assert await rows_of(bot, old) == gone
    kept = await rows_of(bot, recent)
    assert kept["answers"] == 20 and kept["voice notes"] == 1, "a poll within the period stays"
    await member.command("uitslag", str(old))
    after = member.last.text
    assert "10 van de 12 mensen gaven antwoord (83%)" in after
    assert "▓▓▓▓▓░░░░░ 50% Goed (5)" in after
    assert after.startswith(before.split("4. ")[0].split("2. Nog iets?")[0])
    assert "Prima" in before and "Prima" not in after, "open answers are answer-level data"
    assert "De losse antwoorden zijn gewist" in after
    await member.command("uitslag", str(old), "locatie")
    assert "per groep kan niet meer" in member.last.text
    await member.command("exporteer", str(old))
    assert member.last.kind == "document" and member.last.labels == []
    assert await delete_old_answers(bot.db, now=utcnow(), days=180) == 0, "once"
