"""The tables. Fields carry their own constraints; nothing here talks to a database.

Data minimisation: a person is an address (a channel and that channel's id for them: a
Telegram user id, or on WhatsApp the phone number it uses) plus the choices they made
(language, age band, consent time). No names, no other phone numbers, no message text outside
what a poll asks for. Anonymous answers hang off a `Respondent` that holds only a keyed pseudonym.
"""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


TELEGRAM: Final = "telegram"
WHATSAPP: Final = "whatsapp"
CHANNELS: Final = (TELEGRAM, WHATSAPP)


class Address(NamedTuple):
    """Where a person is reached: a channel and that channel's id for them, as text."""

    channel: str
    id: str

    @classmethod
    def telegram(cls, user_id: int) -> Address:
        return cls(TELEGRAM, str(user_id))

    @classmethod
    def whatsapp(cls, user_id: str) -> Address:
        """A WhatsApp user: the business-scoped user id when Meta gives one, else the wa_id."""
        return cls(WHATSAPP, user_id)


def utcnow() -> datetime:
    """Timezone-aware now; SQLModel stores aware datetimes as UTC on both databases."""
    return datetime.now(UTC)


def random_id() -> int:
    """A random key for respondents and answers: their order says nothing about who came when."""
    return secrets.randbits(62)


def _random_key() -> Any:
    return Column(BigInteger, primary_key=True, autoincrement=False)


_TELEGRAM: Final = {"server_default": TELEGRAM}
"""Rows from before there were channels are Telegram's."""


def _enum(kind: type[enum.Enum]) -> Any:
    values = SAEnum(
        kind,
        native_enum=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )
    return Column(values, nullable=False)


class Role(enum.StrEnum):
    family = "family"
    council = "council"
    staff = "staff"


class MembershipStatus(enum.StrEnum):
    active = "active"
    paused = "paused"
    stopped = "stopped"
    blocked = "blocked"


class AgeBand(enum.StrEnum):
    under16 = "under16"
    adult = "16plus"


class PollStatus(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    open = "open"
    closed = "closed"


class QuestionKind(enum.StrEnum):
    single = "single"
    multiple = "multiple"
    faces = "faces"
    grade = "grade"
    yes_no = "yes_no"
    open_text = "open_text"
    priorities = "priorities"


class RoundKind(enum.StrEnum):
    questions = "questions"
    reminder = "reminder"
    followup = "followup"
    summary = "summary"
    """What others said: the results for families, when the poll closed."""
    invitation = "invitation"
    """An invitation to join the council, sent on its own (no poll; `Round.council_id`)."""


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    claimed = "claimed"
    sent = "sent"
    blocked = "blocked"
    failed = "failed"
    uncertain = "uncertain"
    skipped = "skipped"


class Council(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64)
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    languages: str = Field(default="nl,en", max_length=32)
    """The languages the council writes polls in, the first one first ("nl,en,ar")."""
    privacy_threshold: int = Field(default=5, ge=3, le=20)
    quiet_start: str = Field(default="21:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
    recruit_text: str | None = Field(default=None, max_length=600)
    """What a family that wants to know more about joining reads (None: the default text)."""


class Person(SQLModel, table=True):
    """Someone who agreed to take part. Exists only after consent."""

    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(default=TELEGRAM, max_length=16, sa_column_kwargs=_TELEGRAM)
    address: str = Field(max_length=160)
    language: str = Field(default="nl", max_length=2)
    age_band: AgeBand = Field(sa_column=_enum(AgeBand))
    guardian_consent: bool = False
    consented_at: datetime = Field(default_factory=utcnow)
    window_at: datetime | None = None
    """WhatsApp: when the person last wrote to us (free-form messages only within 24 hours)."""

    @property
    def contact(self) -> Address:
        return Address(self.channel, self.address)


class Invite(SQLModel, table=True):
    """An invite code; only its SHA-256 is stored, so a database leak reveals no codes."""

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: Role = Field(sa_column=_enum(Role))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    max_uses: int | None = Field(default=1, ge=1)
    uses: int = Field(default=0, ge=0)
    expires_at: datetime
    revoked: bool = False
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A person's role, segment tags and subscription status in one council."""

    __table_args__ = (
        UniqueConstraint("person_id", "council_id"),
        Index("ix_membership_council_id_role_status_id", "council_id", "role", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    role: Role = Field(sa_column=_enum(Role))
    status: MembershipStatus = Field(
        default=MembershipStatus.active, sa_column=_enum(MembershipStatus)
    )
    joined_at: datetime = Field(default_factory=utcnow)


class MembershipTag(SQLModel, table=True):
    """One segment tag ("location:noord") of a membership, for indexed audience queries."""

    membership_id: int = Field(foreign_key="membership.id", ondelete="CASCADE", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True, index=True)


class Draft(SQLModel, table=True):
    """Half-finished conversation state (sign-up, invite, new poll) that survives a restart."""

    __table_args__ = (
        UniqueConstraint("channel", "address", "kind"),
        Index("ix_draft_channel_address", "channel", "address"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(default=TELEGRAM, max_length=16, sa_column_kwargs=_TELEGRAM)
    address: str = Field(max_length=160)
    kind: str = Field(max_length=16)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    expires_at: datetime

    @property
    def contact(self) -> Address:
        return Address(self.channel, self.address)


class Template(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=120)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    shared: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Poll(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    template_id: int | None = Field(default=None, foreign_key="template.id", ondelete="SET NULL")
    title: str = Field(max_length=120)
    status: PollStatus = Field(default=PollStatus.draft, sa_column=_enum(PollStatus))
    anonymous: bool = True
    allow_change: bool = True
    audience_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id", ondelete="SET NULL")
    reminder_hours: int | None = Field(default=24, ge=1, le=24 * 14)
    purged_at: datetime | None = None
    """When the answers were deleted (the retention period after closing); counts stay."""
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The counts kept when the answers were deleted (see storage/retention.py)."""
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    language: str = Field(default="nl", max_length=2, sa_column_kwargs={"server_default": "nl"})
    """The language the poll was written in; `title` and every question's text are in it."""
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    """The title in each other language the poll has (a language has every text or none)."""
    help_replies: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """How many open answers got the help lines (a count for staff, linked to nobody)."""

    share_results: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    """Whether every family that was asked gets a summary of the results when it closes."""
    results_note: str | None = Field(default=None, max_length=200)
    """The council's own line with that summary."""
    recruit: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    """Whether the poll ends with an invitation to join the council."""

    def title_in(self, language: str) -> str:
        """The title as a reader of `language` sees it (the first language's if it lacks one)."""
        return self.translations.get(language, self.title)


class Question(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("poll_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    position: int = Field(ge=1, le=5)
    kind: QuestionKind = Field(sa_column=_enum(QuestionKind))
    text: str = Field(max_length=300)
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )


class Option(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("question_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", ondelete="CASCADE", index=True)
    position: int = Field(ge=1, le=10)
    label: str = Field(max_length=60)
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )


class Voice(SQLModel, table=True):
    """A voice note a council member recorded for a poll's introduction (`question_id` None)
    or one question, in one language. Deleted with the poll, and with its answers under
    retention; only ever sent to people the poll was sent to."""

    __table_args__ = (UniqueConstraint("poll_id", "question_id", "language"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id", ondelete="CASCADE")
    language: str = Field(max_length=2)
    file_id: str = Field(max_length=200)
    """Telegram's file id (the bot sends the note again by it)."""
    duration: int = 0
    media_id: str | None = Field(default=None, max_length=64)
    """WhatsApp's media id, once the note was uploaded for this poll."""
    media_at: datetime | None = None


class Schedule(SQLModel, table=True):
    """A recurring round: a template sent on a rule, in the council's timezone."""

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    template_id: int = Field(foreign_key="template.id", ondelete="CASCADE")
    rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    paused: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    active_since: datetime = Field(default_factory=utcnow)
    """Moments before this (made or resumed later) never start a round."""


class Round(SQLModel, table=True):
    """One sending of a poll (its questions, a reminder or a follow-up) to its audience."""

    __table_args__ = (
        UniqueConstraint("schedule_id", "period_key"),
        UniqueConstraint("poll_id", "period_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int | None = Field(default=None, foreign_key="poll.id", ondelete="CASCADE", index=True)
    """None only for an invitation sent on its own (then `council_id` says whose)."""
    council_id: int | None = Field(default=None, foreign_key="council.id", ondelete="CASCADE")
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id", ondelete="SET NULL")
    period_key: str | None = Field(default=None, max_length=32)
    kind: RoundKind = Field(sa_column=_enum(RoundKind))
    followup_id: int | None = Field(default=None, foreign_key="followup.id", ondelete="CASCADE")
    total: int = 0
    forgotten: int = 0
    """Recipients who were sent this round and later used /forget (their outbox rows are
    gone); still counted as reached, so a response rate never tops 100%."""
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    progress_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """The outbox: one row per recipient of a round, claimed and sent by workers."""

    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        Index("ix_delivery_status_id", "status", "id"),
        Index("ix_delivery_status_channel_id", "status", "channel", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    channel: str = Field(default=TELEGRAM, max_length=16, sa_column_kwargs=_TELEGRAM)
    """The person's channel when the round was made: each channel's outbox claims its own
    rows straight from an index."""
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_column=_enum(DeliveryStatus))
    attempts: int = 0
    not_before: datetime | None = None
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=16)
    """The process that holds the claim (random per start): after a fault it gives back
    exactly its own rows, at once, without waiting for the lease."""
    message_id: int | None = None
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=128, index=True)
    """WhatsApp: the message id (wamid) that statuses refer to."""
    receipt: int = 0
    """WhatsApp: how far the message got (RECEIPTS: 1 sent, 2 delivered, 3 read); a status
    never lowers it, however late or often it arrives."""
    template: bool = False
    """WhatsApp: sent as an approved template (outside the 24-hour window): it counts
    towards the business's daily limit of new conversations."""


RECEIPTS: Final = {"sent": 1, "delivered": 2, "read": 3, "played": 3}


class Inbound(SQLModel, table=True):
    """A message that came in on a channel that may deliver it more than once (WhatsApp
    retries webhooks for days): its id, so it is handled once. Nothing of its content."""

    __table_args__ = (UniqueConstraint("channel", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    message_id: str = Field(max_length=128)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class Inbox(SQLModel, table=True):
    """An update as it came in (a Telegram update, a WhatsApp message), kept until a process
    handled it: any process takes the oldest pending row of a person whose earlier rows are all
    done, so one person's updates go in order and never two at once (`storage.inbox`). The
    body (which holds what the person typed) is cleared as soon as the row is done; the row
    itself, which then says only who sent something when, goes after a day."""

    __table_args__ = (
        UniqueConstraint("channel", "key"),
        Index("ix_inbox_channel_person_id", "channel", "person", "id"),
        Index(
            "ix_inbox_pending",
            "id",
            postgresql_where=sql_text("done_at IS NULL"),
            sqlite_where=sql_text("done_at IS NULL"),
        ),
    )
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    channel: str = Field(max_length=16)
    key: str = Field(max_length=80)
    """The platform's id of the update (Telegram's update_id; a WhatsApp message id's SHA-256)."""
    person: str = Field(max_length=160)
    """Whose lane: the sender's address id ("update:<id>" for an update without a sender)."""
    body: str | None = Field(default=None)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    taken_by: str | None = Field(default=None, max_length=16)
    """The token of the process handling it (its advisory lock says whether it lives)."""
    done_at: datetime | None = Field(default=None)


class Respondent(SQLModel, table=True):
    """Who answered a poll: a keyed pseudonym (HMAC), a person id only for named polls."""

    __table_args__ = (UniqueConstraint("poll_id", "pseudonym"),)
    id: int = Field(default_factory=random_id, sa_column=_random_key())
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    pseudonym: str = Field(max_length=64)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")


class RespondentTag(SQLModel, table=True):
    """The segment tags a respondent had when answering, for breakdowns by tag."""

    respondent_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("respondent.id", ondelete="CASCADE"), primary_key=True
        )
    )
    tag: str = Field(max_length=64, primary_key=True, index=True)


class Answer(SQLModel, table=True):
    """One answer. `slot` is 0 for single-valued questions, the option or rank otherwise."""

    __table_args__ = (
        UniqueConstraint("respondent_id", "question_id", "slot"),
        # Results are counted from these indexes alone, never from the table's rows
        # (storage/tallies.py; bench/tallies.py times them): choices per question, then who
        # answered (multiple choice), then the few open texts. The first also serves the
        # breakdown by respondent tag: it carries respondent_id.
        Index(
            "ix_answer_question_skipped_option_value_slot_respondent",
            *("question_id", "skipped", "option_id", "value", "slot", "respondent_id"),
        ),
        Index("ix_answer_question_skipped_respondent", "question_id", "skipped", "respondent_id"),
        Index(
            "ix_answer_question_text",
            "question_id",
            sqlite_where=sql_text("text IS NOT NULL"),
            postgresql_where=sql_text("text IS NOT NULL"),
        ),
    )
    id: int = Field(default_factory=random_id, sa_column=_random_key())
    respondent_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("respondent.id", ondelete="CASCADE"), nullable=False
        )
    )
    question_id: int = Field(foreign_key="question.id", ondelete="CASCADE")
    slot: int = 0
    option_id: int | None = Field(default=None, foreign_key="option.id", ondelete="CASCADE")
    value: int | None = None
    text: str | None = Field(default=None, max_length=1000)
    language: str | None = Field(default=None, max_length=2)
    """The language an open answer was typed in (the family's; nothing else about them)."""
    skipped: bool = False


class FollowUp(SQLModel, table=True):
    """What the council did with a poll's results ("you said, we did")."""

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    text: str = Field(max_length=3000)
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )


class Candidate(SQLModel, table=True):
    """A family that said yes to hearing about joining the council, and how to reach them.
    Linked to the person (so /forget removes it) and never to an answer or respondent;
    deleted after 90 days, or once staff marked it handled."""

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    person_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="CASCADE", index=True
    )
    contact: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    handled_at: datetime | None = None
    invited_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who did what to whose data; never message text."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    council_id: int | None = Field(default=None, foreign_key="council.id", ondelete="SET NULL")
    actor_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    action: str = Field(max_length=32)
    detail: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow)


class RoundFill(SQLModel, table=True):
    """A round whose outbox rows are still being written, a few thousand per transaction
    (`storage.polls.fill_round`): who its recipients are (the query as SQL) and the highest
    person id written so far. Gone once every row is there; a restart goes on from `after`."""

    __tablename__ = "round_fill"
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE", primary_key=True)
    recipients: str
    """The person ids, as a SELECT of one column `person_id` (its values written in)."""
    after: int = 0


class KeptGroups(SQLModel, table=True):
    """The counts of a closed poll split by the groups of one tag kind, kept at closing like
    `Poll.summary` (`storage.segments.keep_groups`): the breakdown per question and who was
    asked and who answered per group. Read only while the poll's answers are kept."""

    __tablename__ = "kept_groups"
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", primary_key=True)
    kind: str = Field(max_length=64, primary_key=True)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RoundRecipient(SQLModel, table=True):
    """Who a round worked out in the bot goes to (a reminder: those asked who have not
    answered, which only the pseudonym key tells), written in chunks and read by the round's
    filler like any query of person ids; each row goes in the transaction that writes its
    outbox row, so it says no longer than that who had not answered."""

    __tablename__ = "round_recipient"
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE", primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", primary_key=True)
