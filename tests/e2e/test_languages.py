"""Polls in several languages: written in /newpoll, read by each family in its own language
(or the council's first, with one line saying so), on both channels; follow-ups and results
the same; sign-up and a whole poll in each of the six languages a family can choose."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.botapi import LocalBotApi, SimUser
from bot.config import Settings
from bot.texts import LANGUAGES, texts_for
from bot.wasim import LocalWhatsApp
from storage.models import Answer, Role
from tests.builders import (
    COUNCILS,
    LANGUAGE_NAMES,
    make_invite,
    make_settings,
    open_poll_now,
    poll_button,
    sign_up,
)
from tests.e2e.conftest import RunningBot
from tests.e2e.families import Family, family_on


@pytest.fixture
def settings(api: LocalBotApi, db_url: str) -> Settings:
    """Noord writes its polls in Dutch and English; three answers may be shown."""
    noord = replace(COUNCILS[0], languages=("nl", "en"), privacy_threshold=3)
    return make_settings(api, db_url, councils=(noord, *COUNCILS[1:]))


async def join_in(family: Family, code: str, language: str) -> None:
    """Sign up choosing `language` (its name in its own script), then consent and age."""
    t = texts_for(language)
    await family.join(code)
    await family.press(LANGUAGE_NAMES[LANGUAGES.index(language)])
    await family.press(t.label("signup.agree"))
    await family.press(t.label("signup.age_16plus"))


async def write_in_two_languages(member: SimUser) -> None:
    """/nieuw in Dutch, then every text again in English."""
    await member.command("nieuw")
    await member.send("Het eerste gesprek")
    await member.press("Eén keuze")
    await member.send("Hoe vond je het eerste gesprek?")
    await member.send("Goed\nGaat wel\nNiet goed")
    await member.press("Open antwoord")
    await member.send("Wat kan beter?")
    await member.press("Geen vragen meer")
    for typed in (
        "The first talk",
        "How was the first talk?",
        "Good\nOkay\nNot good",
        "What could be better?",
    ):
        await member.send(typed)


async def test_a_poll_in_dutch_and_english_reaches_each_family_in_its_language(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    member = api.user(500, first_name="Raadslid")
    await sign_up(member, await make_invite(wabot.db, role=Role.council))
    code = await make_invite(wabot.db, uses=10)
    dutch, english, arabic = (
        family_on("telegram", api, wa, 601),
        family_on("whatsapp", api, wa, 602),
        family_on("telegram", api, wa, 603),
    )
    for family, language in ((dutch, "nl"), (english, "en"), (arabic, "ar")):
        await join_in(family, code, language)

    await write_in_two_languages(member)
    assert member.last.text == "Wie krijgt deze peiling?", "then on, as for one language"
    for label in (
        "Iedereen van Cliëntenraad Noord",
        "Anoniem (beste keuze)",
        "Meteen",
        "Na 7 dagen",
        "Ja, dat mag",
    ):
        await member.press(label)
    assert "Talen: Nederlands, Engels" in member.last.text
    await member.press("👁 Bekijk in het Engels")
    assert member.messages[-4].text.startswith("Voorbeeld in het Engels. Dit zien gezinnen")
    assert "How was the first talk?" in member.messages[-3].text
    assert member.messages[-3].labels == ["Good", "Okay", "Not good", "Skip"]
    await member.press("✅ Versturen")
    await wabot.deliver()

    assert "Hoe vond je het eerste gesprek?" in dutch.text
    assert dutch.labels == ["Goed", "Gaat wel", "Niet goed", "Overslaan"]
    assert "*The first talk*" in english.text and "How was the first talk?" in english.text
    assert english.labels == ["Good", "Okay", "Not good", "Skip"]
    assert "Hoe vond je het eerste gesprek?" in arabic.text, "the council's first language"
    assert "هذه الأسئلة غير متوفرة بلغتك بعد. إليك الأسئلة باللغة الهولندية." in arabic.text
    assert arabic.labels == ["Goed", "Gaat wel", "Niet goed", "تخطي"], "buttons: its own"
    assert "not in your language" not in english.text and "nog niet in" not in dutch.text

    for family, choice, typed in (
        (dutch, "Goed", "Sneller een afspraak"),
        (english, "Good", "Evening hours"),
        (arabic, "Goed", "مترجم في المقابلة الأولى"),
    ):
        await family.press(choice)
        await family.send(typed)
    async with wabot.db.read() as session:
        typed_in = set((await session.execute(select(Answer.text, Answer.language))).all())
    assert {row for row in typed_in if row[0]} == {
        ("Sneller een afspraak", "nl"),
        ("Evening hours", "en"),
        ("مترجم في المقابلة الأولى", "ar"),
    }

    await member.command("peilingen")
    assert "🗣 Nederlands, Engels" in member.last.text
    await member.command("sluiten")
    await member.press(poll_button(member, "Het eerste gesprek"))
    await wabot.deliver()
    results = member.last.text
    assert "Hoe vond je het eerste gesprek?" in results and "100% Goed (3)" in results
    assert "• Evening hours (Engels)" in results, "an open answer says its language"
    assert "• مترجم في المقابلة الأولى (Arabisch)" in results
    assert "• Sneller een afspraak\n" in f"{results}\n", "the reader's own language: no note"

    await member.command("terugkoppeling")
    await member.press(poll_button(member, "Het eerste gesprek"))
    await member.send("We bellen voortaan binnen twee dagen terug.")
    assert "Het bericht in het Engels, alsjeblieft." in member.last.text
    await member.send("We now call back within two days.")
    assert member.last.text.endswith("\n\nEngels\nWe now call back within two days."), (
        "the confirmation shows every language"
    )
    assert member.last.labels == ["✅ Versturen", "Annuleren"]
    await member.press("✅ Versturen")
    await wabot.deliver()
    assert "We bellen voortaan binnen twee dagen terug.\n\n" in dutch.text, "then: the results went"
    assert english.text.startswith("📣 *You said, we did*\nAbout the poll “The first talk”")
    assert "We now call back within two days.\n\n" in english.text
    assert "هذه الرسالة غير متوفرة بلغتك بعد" in arabic.text
    assert "We bellen voortaan binnen twee dagen terug.\n\n" in arabic.text

    await member.command("language")
    await member.press("English")
    await member.command("results", "1")
    assert "How was the first talk?" in member.last.text and "Good (3)" in member.last.text
    assert "Sneller een afspraak (Dutch)" in member.last.text


SIX = {  # title, a choice question with its two options, an open question; then what is said
    "nl": ("Onze peiling", "Hoe gaat het?", "Goed", "Slecht", "Wat kan beter?"),
    "en": ("Our poll", "How are you?", "Good", "Bad", "What could be better?"),
    "ar": ("استطلاعنا", "كيف حالك؟", "جيد", "سيئ", "ما الذي يمكن تحسينه؟"),
    "tr": ("Anketimiz", "Nasılsınız?", "İyi", "Kötü", "Ne daha iyi olabilir?"),
    "pl": ("Nasza ankieta", "Jak się masz?", "Dobrze", "Źle", "Co można poprawić?"),
    "uk": ("Наше опитування", "Як справи?", "Добре", "Погано", "Що можна покращити?"),
}
SAID = {  # what the family reads: signed up, the skip button, the open answer saved, the end
    "nl": ("Je doet nu mee met", "Overslaan", "je antwoord is bewaard", "de laatste vraag"),
    "en": ("You are signed up with", "Skip", "your answer is saved", "the last question"),
    "ar": ("أنت الآن مسجّل في", "تخطي", "حُفظت إجابتك", "السؤال الأخير"),
    "tr": ("için kaydınız yapıldı", "Geç", "cevabınız kaydedildi", "son soruydu"),
    "pl": ("Bierzesz udział w ankietach", "Pomiń", "odpowiedź jest zapisana", "ostatnie pytanie"),
    "uk": ("Ви приєдналися до ради", "Пропустити", "відповідь збережено", "останнє запитання"),
}


async def test_sign_up_and_a_whole_poll_in_each_language(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    """Six families, one per language, on Telegram and WhatsApp in turn; one poll for all."""
    code = await make_invite(wabot.db, uses=10)
    families = {
        language: family_on(("telegram", "whatsapp")[index % 2], api, wa, 700 + index)
        for index, language in enumerate(LANGUAGES)
    }
    for language, family in families.items():
        await join_in(family, code, language)
        assert SAID[language][0] in family.text, language

    title, question, good, bad, open_question = SIX["nl"]
    await open_poll_now(
        wabot.db,
        title=title,
        questions=[
            {"kind": "single", "text": question, "options": [good, bad]},
            {"kind": "open_text", "text": open_question},
        ],
        languages={
            code: {
                "title": texts[0],
                "questions": {
                    "0": {"text": texts[1], "options": texts[2:4]},
                    "1": {"text": texts[4]},
                },
            }
            for code, texts in SIX.items()
            if code != "nl"
        },
    )
    await wabot.deliver()
    for language, family in families.items():
        _, skip, saved, last = SAID[language]
        title, question, good, bad, open_question = SIX[language]
        assert title in family.text and question in family.text, language
        assert family.labels == [good, bad, skip], language
        await family.press(good)
        assert open_question in family.text, language
        await family.send(f"{open_question} ({language})")
        assert saved in "\n".join(family.texts[-3:]) and last in family.text, language
    async with wabot.db.read() as session:
        stored = (await session.execute(select(Answer.text, Answer.language))).all()
    assert sorted(row for row in stored if row[0]) == sorted(
        (f"{SIX[language][4]} ({language})", language) for language in LANGUAGES
    ), "each open answer with the language it was typed in"


async def test_a_template_keeps_its_languages_also_for_another_council(
    api: LocalBotApi, bot: RunningBot
) -> None:
    noord, zuid = api.user(500), api.user(501)
    await sign_up(noord, await make_invite(bot.db, role=Role.council))
    await sign_up(zuid, await make_invite(bot.db, role=Role.council, council="zuid"))
    english = api.user(610)
    await sign_up(english, await make_invite(bot.db, council="zuid"), language="English")
    await write_in_two_languages(noord)
    await noord.press("Iedereen van Cliëntenraad Noord")
    for label in ("Anoniem (beste keuze)", "Meteen", "Na 7 dagen", "Ja, dat mag"):
        await noord.press(label)
    await noord.press("💾 Bewaren als sjabloon")
    await noord.press("Annuleren")
    await noord.command("sjablonen")
    await noord.press("🔒 Het eerste gesprek (tik om te delen)")

    await zuid.command("nieuw")
    await zuid.press("Het eerste gesprek (gedeeld door Cliëntenraad Noord)")
    await zuid.press("Geen vragen meer")
    for label in (
        "Iedereen van Jongerenraad Zuid",
        "Anoniem (beste keuze)",
        "Meteen",
        "Na 7 dagen",
        "Ja, dat mag",
    ):
        await zuid.press(label)
    assert "Talen: Nederlands, Engels" in zuid.last.text, "Zuid writes Dutch only, yet"
    await zuid.press("✅ Versturen")
    await bot.deliver()
    assert "Jongerenraad Zuid asks you: The first talk" in english.last.text
    assert "How was the first talk?" in english.last.text
    assert english.last.labels == ["Good", "Okay", "Not good", "Skip"]
