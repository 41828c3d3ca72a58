"""Markup in everything people type is shown literally, wherever the bot shows it again.

HTML (`<b>`, `</i>`, `&amp;`, `<a href>`, a lone `<` or `&`), Markdown (`*bold*`, `_x_`,
`` `code` ``, `[link](url)`) and `$x$` go into a poll's title, its questions and options, an
open answer and follow-ups. They must come back character for character: in the preview, in
what families get, on their answered questions, in /privacy, in the results, the charts and the
CSV, in /polls and the follow-ups, and on buttons (which Telegram shows as plain text). The
local Bot API server parses every message as Telegram does; a single "can't parse entities"
would fail the test, as would any error that reaches the bot's error handler.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.botapi import LocalBotApi, SimUser, methods_messages
from bot.botapi.html_entities import EntityParseError, ParsedText
from handlers.gate import FLOOD
from storage.models import Delivery, DeliveryStatus, Role
from tests.builders import make_invite, poll_button, sign_up
from tests.e2e.conftest import RunningBot

TITLE = "<b>Vet</b> & </i> <a href='http://x'>x</a> *bold* _x_ `code` [link](http://x) < &amp; $x$"
QUESTION = "Wat vind je van <i>dit</i> & [dat](http://x)? *echt* <"
OPEN_QUESTION = "Wat moet </b> beter & <code>anders</code>?"
OPTIONS = ["<b>vet</b>", "</i> & <", "<a href='http://x'>x</a>", "*bold* _x_ `code`", "&amp; $x$"]
ANSWER = '<b>Minder</b> wachten & <a href="tg://user?id=1">meer</a> uitleg *nu* _x_ `y` <'
FOLLOWUP = "We deden <b>dit</b> & </i> dat:\n* [link](http://x)\n_ok_ `code` < &amp;"
LONG_FOLLOWUP = ("<&> " * 750).strip()
"""3000 characters, the maximum, that are 4 to 5 times longer once escaped as HTML."""


@pytest.fixture
def parse_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every "can't parse entities" the server answers, kept for the test to check."""
    errors: list[str] = []
    real = methods_messages.parse_html

    def recording(source: str) -> ParsedText:
        try:
            return real(source)
        except EntityParseError as error:
            errors.append(f"{error}: {source[:200]}")
            raise

    monkeypatch.setattr(methods_messages, "parse_html", recording)
    return errors


@pytest.fixture
async def watched(bot: RunningBot, parse_errors: list[str]) -> AsyncIterator[RunningBot]:
    """The bot; afterwards no message was refused and no error reached the error handler."""
    failures: list[BaseException] = []

    async def capture(update: object, ctx: object) -> None:
        failures.append(ctx.error)  # type: ignore[attr-defined]

    bot.app.add_error_handler(capture)
    bot.app.bot_data[FLOOD] = 1000  # one member walks every feature
    yield bot
    assert parse_errors == []
    assert failures == []


async def write_hostile_poll(member: SimUser) -> None:
    await member.command("nieuw")
    await member.send(TITLE)
    await member.press("Eén keuze")
    await member.send(QUESTION)
    await member.send("\n".join(OPTIONS))
    await member.press("Open antwoord")
    await member.send(OPEN_QUESTION)
    await member.press("Geen vragen meer")
    await member.press("Iedereen van Jongerenraad Zuid")
    await member.press("Anoniem (beste keuze)")
    await member.press("Meteen")
    await member.press("Na 7 dagen")
    await member.press("Ja, dat mag")


async def test_markup_in_every_typed_field_is_shown_literally(
    api: LocalBotApi, watched: RunningBot
) -> None:
    bot = watched
    member = api.user(840)
    await sign_up(member, await make_invite(bot.db, council="zuid", role=Role.council))
    families = [api.user(841 + n) for n in range(3)]
    code = await make_invite(bot.db, council="zuid", uses=3)
    for family in families:
        await sign_up(family, code)

    await write_hostile_poll(member)
    preview = [message.text for message in member.messages[-4:]]
    assert TITLE in preview[1] and QUESTION in preview[1]
    assert member.messages[-3].labels == [*OPTIONS, "Overslaan"]
    assert OPEN_QUESTION in preview[2]
    assert f"Titel: {TITLE}\n" in preview[3]
    await member.press("💾 Bewaren als sjabloon")
    await member.press("✅ Versturen")
    await bot.deliver()

    for number, family in enumerate(families):
        assert f"Jongerenraad Zuid vraagt jou: {TITLE}" in family.last.text
        assert QUESTION in family.last.text
        assert family.last.labels == [*OPTIONS, "Overslaan"]
        await family.press(OPTIONS[number])
        assert f"✓ Jouw antwoord: {OPTIONS[number]}" in family.messages[-2].text
        assert OPEN_QUESTION in family.last.text
        await family.send(ANSWER)
        assert f"«{ANSWER}»" in family.messages[-2].text
    await families[0].command("gegevens")
    own = families[0].last.text
    assert TITLE in own and QUESTION in own and OPEN_QUESTION in own
    assert OPTIONS[0] in own and ANSWER in own

    await member.command("sluiten")
    await member.press(poll_button(member, TITLE))
    results = member.last.text
    assert TITLE in results and QUESTION in results and OPEN_QUESTION in results
    assert all(option in results for option in OPTIONS) and ANSWER in results

    await _results_chart_and_csv(member, results)
    await _followups(api, bot, member, families)
    await _buttons_with_titles(member)


async def _results_chart_and_csv(member: SimUser, closed_report: str) -> None:
    """/results, /chart and /export show the same texts, literally."""
    await member.command("uitslag")
    await member.press(poll_button(member, TITLE))
    shown = "\n".join(message.text for message in member.messages[-2:])
    assert TITLE in shown and QUESTION in shown and ANSWER in shown
    await member.press("📊 Als plaatje")
    chart = member.last
    assert chart.kind == "photo" and QUESTION in chart.text
    await member.command("exporteer")
    await member.press(poll_button(member, TITLE))
    table = member.last
    assert table.kind == "document" and TITLE in table.text
    rows = list(csv.reader(io.StringIO(table.file.decode("utf-8-sig")), delimiter=";"))
    cells = {cell for row in rows for cell in row}
    assert {TITLE, QUESTION, *OPTIONS} <= cells
    assert closed_report


async def _followups(
    api: LocalBotApi, bot: RunningBot, member: SimUser, families: list[SimUser]
) -> None:
    """Follow-ups, short and at the maximum length, reach families literally and show in
    /polls (where a long page is split into messages without breaking the markup)."""
    for text in (FOLLOWUP, LONG_FOLLOWUP):
        await member.command("terugkoppeling")
        await member.press(poll_button(member, TITLE))
        assert TITLE in member.last.text
        await member.send(text)
        assert text in member.last.text and TITLE in member.last.text
        await member.press("✅ Versturen")
        await bot.deliver()
        assert all(text in family.last.text for family in families)
    async with bot.db.read() as session:
        statuses = set(await session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.sent}, "every question and follow-up arrived"

    await member.command("peilingen")
    assert TITLE in member.last.text
    before = len(member.messages)
    await member.press(poll_button(member, TITLE))
    page = "".join(message.text for message in member.messages[before:])
    assert FOLLOWUP in page and LONG_FOLLOWUP.replace(" ", "") in page.replace(" ", "")


async def _buttons_with_titles(member: SimUser) -> None:
    """Buttons are plain text to Telegram: a title on a button is not escaped either."""
    await member.command("sjablonen")
    assert member.last.labels == [f"🔒 {TITLE[:30]} (tik om te delen)"]
    await member.command("nieuw")
    assert f"{TITLE[:40]}" in member.last.labels
    await member.command("annuleer")
    await member.command("planning")
    await member.press("➕ Nieuwe vaste ronde")
    assert member.last.labels == [TITLE[:40]]
