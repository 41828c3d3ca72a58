"""Settings: read from a TOML file, overridden by environment variables, validated."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.texts import LANGUAGES

TELEGRAM_API = "https://api.telegram.org/bot"
GRAPH_API = "https://graph.facebook.com/v25.0"
DEFAULT_CONFIG = "config.toml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """A setting is wrong or missing; the message names the key and the fix."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True)
class WebhookSettings:
    listen: str = "0.0.0.0"
    port: int = 8080
    path: str = "/telegram"
    secret_token: str = ""
    public_url: str = ""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    base_url: str = TELEGRAM_API
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    messages_per_second: float = 30.0
    allow_paid_broadcast: bool = False
    give_up_after_hours: int = 72

    @property
    def give_up_after(self) -> timedelta:
        return timedelta(hours=self.give_up_after_hours)


@dataclass(frozen=True)
class TemplateNames:
    """Approved WhatsApp template names per purpose (the language code follows the person)."""

    round: str = "achterban_round"
    reminder: str = "achterban_reminder"
    followup: str = "achterban_followup"


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp Cloud API channel for families; off while `phone_number_id` is empty."""

    phone_number_id: str = ""
    token: str = ""
    app_secret: str = ""
    verify_token: str = ""
    business_number: str = ""
    base_url: str = GRAPH_API
    messages_per_second: float = 80.0
    daily_new_conversations: int = 250
    listen: str = "0.0.0.0"
    port: int = 8081
    path: str = "/whatsapp"
    templates: TemplateNames = field(default_factory=TemplateNames)

    @property
    def on(self) -> bool:
        return bool(self.phone_number_id)


@dataclass(frozen=True)
class MetricsSettings:
    """Where GET /healthz and GET /metrics are served (every mode); port 0: any free port."""

    listen: str = "127.0.0.1"
    port: int = 9300


@dataclass(frozen=True)
class HelpLineSettings:
    """A help line of a council's own: what it is for and when it is open, per language."""

    name: str
    number: str
    about: tuple[tuple[str, str], ...]
    """(language, text), the council's first language among them."""


RECRUIT_LIMIT = 600
"""Council.recruit_text holds at most this many characters."""


@dataclass(frozen=True)
class CouncilSettings:
    slug: str
    name: str
    timezone: str = "Europe/Amsterdam"
    languages: tuple[str, ...] = ("nl",)
    """The languages the council writes its polls in, the first one first (families read
    the bot's own texts in any language of `bot.texts.LANGUAGES`)."""
    privacy_threshold: int = 5
    quiet_hours: tuple[str, str] = ("21:00", "08:00")
    help_lines: tuple[HelpLineSettings, ...] = ()
    """The council's own help lines; none: the Dutch ones (bot/family/helplines.py)."""
    alarm_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(language, words and phrases) that replace that language's default alarm list."""
    recruit_text: str | None = None
    """What a family that wants to hear about joining reads first; None: our default text."""


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings
    database_url: str
    admins: frozenset[int]
    pseudonym_key: str
    default_language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    councils: tuple[CouncilSettings, ...] = ()
    retention_days: int = 180
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    def require_token(self) -> None:
        """Fail clearly when the bot is about to talk to Telegram without a token."""
        if not self.telegram.token:
            raise ConfigError(
                "[telegram] token",
                "missing; ask @BotFather for a token and set it in the config file "
                "or in ACHTERBAN_TOKEN (or run `achterban demo` to try the bot offline)",
            )


ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "ACHTERBAN_TOKEN": ("telegram", "token"),
    "ACHTERBAN_BASE_URL": ("telegram", "base_url"),
    "ACHTERBAN_MODE": ("telegram", "mode"),
    "ACHTERBAN_WEBHOOK_SECRET": ("webhook", "secret_token"),
    "ACHTERBAN_WEBHOOK_URL": ("webhook", "public_url"),
    "ACHTERBAN_WEBHOOK_PORT": ("webhook", "port"),
    "DATABASE_URL": ("database", "url"),
    "ACHTERBAN_PSEUDONYM_KEY": ("privacy", "pseudonym_key"),
    "ACHTERBAN_ADMINS": ("access", "admins"),
    "ACHTERBAN_WHATSAPP_PHONE_NUMBER_ID": ("whatsapp", "phone_number_id"),
    "ACHTERBAN_WHATSAPP_TOKEN": ("whatsapp", "token"),
    "ACHTERBAN_WHATSAPP_APP_SECRET": ("whatsapp", "app_secret"),
    "ACHTERBAN_WHATSAPP_VERIFY_TOKEN": ("whatsapp", "verify_token"),
    "ACHTERBAN_WHATSAPP_BUSINESS_NUMBER": ("whatsapp", "business_number"),
    "ACHTERBAN_WHATSAPP_BASE_URL": ("whatsapp", "base_url"),
    "ACHTERBAN_WHATSAPP_PORT": ("whatsapp", "port"),
    "ACHTERBAN_WHATSAPP_LISTEN": ("whatsapp", "listen"),
    "ACHTERBAN_WHATSAPP_PATH": ("whatsapp", "path"),
    "ACHTERBAN_WHATSAPP_MESSAGES_PER_SECOND": ("whatsapp", "messages_per_second"),
    "ACHTERBAN_WHATSAPP_DAILY_NEW_CONVERSATIONS": ("whatsapp", "daily_new_conversations"),
    "ACHTERBAN_METRICS_LISTEN": ("metrics", "listen"),
    "ACHTERBAN_METRICS_PORT": ("metrics", "port"),
}


def config_path(cli_value: str | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """Where the config file is, and whether the user named it explicitly."""
    if cli_value:
        return Path(cli_value), True
    if env.get("ACHTERBAN_CONFIG"):
        return Path(env["ACHTERBAN_CONFIG"]), True
    return Path(DEFAULT_CONFIG), False


def load_settings(path: Path, *, required: bool, env: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (if present), apply environment overrides and validate everything."""
    env = os.environ if env is None else env
    raw = _read_toml(path, required=required)
    for variable, (section, key) in ENV_OVERRIDES.items():
        if env.get(variable):
            target = raw.setdefault(section, {})
            if section == "webhook":
                target = raw.setdefault("telegram", {}).setdefault("webhook", {})
            target[key] = env[variable]
    return _parse(raw, base_dir=path.resolve().parent)


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError("config file", f"{path} does not exist; copy config.example.toml")
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("config file", f"{path} is not valid TOML ({error})") from None


def _parse(raw: dict[str, Any], *, base_dir: Path) -> Settings:
    general = _section(raw, "general")
    default_language = _choice(general, "general", "language", LANGUAGES, "nl")
    timezone = _timezone(general.get("timezone", "Europe/Amsterdam"), "[general] timezone")
    councils = tuple(
        _council(entry, index, timezone) for index, entry in enumerate(raw.get("councils", []))
    ) or (CouncilSettings(slug="raad", name="Cliëntenraad", timezone=timezone),)
    if len({council.slug for council in councils}) != len(councils):
        raise ConfigError("[[councils]] slug", "two councils share a slug; make each one unique")
    privacy = _section(raw, "privacy")
    return Settings(
        telegram=_telegram(_section(raw, "telegram")),
        database_url=database_url(str(_section(raw, "database").get("url", "")), base_dir=base_dir),
        admins=_admins(_section(raw, "access").get("admins", [])),
        pseudonym_key=str(privacy.get("pseudonym_key", "")),
        default_language=default_language,
        timezone=timezone,
        councils=councils,
        retention_days=_integer(privacy, "privacy", "retention_days", 180, low=1, high=3650),
        whatsapp=_whatsapp(_section(raw, "whatsapp")),
        metrics=_metrics(_section(raw, "metrics")),
    )


def _metrics(section: dict[str, Any]) -> MetricsSettings:
    listen = str(section.get("listen", "127.0.0.1")).strip()
    if not listen:
        raise ConfigError("[metrics] listen", 'give an address to listen on, e.g. "127.0.0.1"')
    return MetricsSettings(
        listen=listen, port=_integer(section, "metrics", "port", 9300, low=0, high=65535)
    )


def _whatsapp(section: dict[str, Any]) -> WhatsAppSettings:
    name = "whatsapp"
    settings = WhatsAppSettings(
        phone_number_id=str(section.get("phone_number_id", "")).strip(),
        token=str(section.get("token", "")).strip(),
        app_secret=str(section.get("app_secret", "")).strip(),
        verify_token=str(section.get("verify_token", "")).strip(),
        business_number=str(section.get("business_number", "")).strip().lstrip("+"),
        base_url=str(section.get("base_url", GRAPH_API)).rstrip("/"),
        messages_per_second=float(
            _integer(section, name, "messages_per_second", 80, low=1, high=1000)
        ),
        daily_new_conversations=_integer(
            section, name, "daily_new_conversations", 250, low=1, high=10_000_000
        ),
        listen=str(section.get("listen", "0.0.0.0")),
        port=_integer(section, name, "port", 8081, low=1, high=65535),
        path=str(section.get("path", "/whatsapp")),
        templates=_templates(_section(section, "templates", prefix="whatsapp.")),
    )
    if not settings.on:
        return settings
    if not settings.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            "[whatsapp] base_url", f"must start with https:// (got {settings.base_url!r})"
        )
    if not settings.path.startswith("/"):
        raise ConfigError("[whatsapp] path", f"must start with / (got {settings.path!r})")
    for key, variable in (
        ("token", "ACHTERBAN_WHATSAPP_TOKEN"),
        ("app_secret", "ACHTERBAN_WHATSAPP_APP_SECRET"),
        ("verify_token", "ACHTERBAN_WHATSAPP_VERIFY_TOKEN"),
    ):
        if not getattr(settings, key):
            raise ConfigError(
                f"[whatsapp] {key}",
                f"missing; the WhatsApp channel is on (phone_number_id is set), so set it "
                f"in the config file or in {variable}",
            )
    if not re.fullmatch(r"[1-9]\d{6,14}", settings.business_number):
        raise ConfigError(
            "[whatsapp] business_number",
            "write the WhatsApp number with its country code, digits only (e.g. 31201234567)",
        )
    return settings


def _templates(section: dict[str, Any]) -> TemplateNames:
    names = {}
    for purpose in ("round", "reminder", "followup"):
        value = str(section.get(purpose, getattr(TemplateNames, purpose)))
        if not re.fullmatch(r"[a-z0-9_]{1,512}", value):
            raise ConfigError(
                f"[whatsapp.templates] {purpose}",
                f"a template name has lowercase letters, digits and _ (got {value!r})",
            )
        names[purpose] = value
    return TemplateNames(**names)


def _telegram(section: dict[str, Any]) -> TelegramSettings:
    base_url = str(section.get("base_url", TELEGRAM_API))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("[telegram] base_url", f"must start with https:// (got {base_url!r})")
    webhook = _section(section, "webhook", prefix="telegram.")
    path = str(webhook.get("path", "/telegram"))
    if not path.startswith("/"):
        raise ConfigError("[telegram.webhook] path", f"must start with / (got {path!r})")
    mode = _choice(section, "telegram", "mode", ("polling", "webhook"), "polling")
    settings = TelegramSettings(
        token=str(section.get("token", "")).strip(),
        base_url=base_url,
        mode=mode,  # type: ignore[arg-type]
        webhook=WebhookSettings(
            listen=str(webhook.get("listen", "0.0.0.0")),
            port=_integer(webhook, "telegram.webhook", "port", 8080, low=1, high=65535),
            path=path,
            secret_token=str(webhook.get("secret_token", "")),
            public_url=str(webhook.get("public_url", "")),
        ),
        messages_per_second=float(
            _integer(section, "telegram", "messages_per_second", 30, low=1, high=1000)
        ),
        allow_paid_broadcast=_boolean(section, "telegram", "allow_paid_broadcast", False),
        give_up_after_hours=_integer(
            section, "telegram", "give_up_after_hours", 72, low=1, high=24 * 30
        ),
    )
    if mode == "webhook":
        _check_webhook(settings.webhook)
    return settings


def _check_webhook(webhook: WebhookSettings) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook.secret_token):
        raise ConfigError(
            "[telegram.webhook] secret_token",
            "webhook mode needs a secret of 16-256 letters, digits, _ or - "
            "(or set ACHTERBAN_WEBHOOK_SECRET)",
        )
    local = webhook.public_url.startswith(("http://127.0.0.1", "http://localhost"))
    if not (webhook.public_url.startswith("https://") or local):
        raise ConfigError(
            "[telegram.webhook] public_url",
            "webhook mode needs the public https:// address Telegram should call",
        )


def _council(entry: Any, index: int, default_timezone: str) -> CouncilSettings:
    key = f"[[councils]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(key, "must be a table with slug and name")
    slug = str(entry.get("slug", ""))
    if not SLUG.match(slug):
        raise ConfigError(f"{key} slug", "use 1-31 lowercase letters, digits or - (e.g. 'utrecht')")
    name = str(entry.get("name", "")).strip()
    if not 1 <= len(name) <= 64:
        raise ConfigError(f"{key} name", "give the council a name of 1-64 characters")
    languages = tuple(entry.get("languages", ("nl",)))
    if not languages or any(language not in LANGUAGES for language in languages):
        raise ConfigError(f"{key} languages", f"choose from {', '.join(LANGUAGES)}")
    quiet = str(entry.get("quiet_hours", "21:00-08:00"))
    start, _, end = quiet.partition("-")
    if not (CLOCK.match(start) and CLOCK.match(end)):
        raise ConfigError(f"{key} quiet_hours", f"write it as 21:00-08:00 (got {quiet!r})")
    return CouncilSettings(
        slug=slug,
        name=name,
        timezone=_timezone(entry.get("timezone", default_timezone), f"{key} timezone"),
        languages=languages,
        privacy_threshold=_integer(entry, key, "privacy_threshold", 5, low=3, high=20),
        quiet_hours=(start, end),
        help_lines=_help_lines(entry.get("help_lines"), key, languages[0]),
        alarm_words=_alarm_words(entry.get("alarm_words", {}), key),
        recruit_text=_recruit_text(entry.get("recruit_text"), key),
    )


def _recruit_text(value: Any, key: str) -> str | None:
    """recruit_text: the council's own few lines about joining it (at most 600 characters)."""
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= RECRUIT_LIMIT:
        raise ConfigError(f"{key} recruit_text", f"write 1-{RECRUIT_LIMIT} characters of text")
    return text


def _help_lines(value: Any, key: str, first: str) -> tuple[HelpLineSettings, ...]:
    """[[councils.help_lines]]: name, number and about = { nl = "...", en = "..." }."""
    if value is None:
        return ()
    key = f"{key} help_lines"
    if not isinstance(value, list) or not value:
        raise ConfigError(key, "write one [[councils.help_lines]] table per line (or none)")
    lines = []
    for number, line in enumerate(value, 1):
        where = f"{key} #{number}"
        if not isinstance(line, dict):
            raise ConfigError(where, "must be a table with name, number and about")
        name, phone = str(line.get("name", "")).strip(), str(line.get("number", "")).strip()
        if not (1 <= len(name) <= 64 and 1 <= len(phone) <= 32):
            raise ConfigError(where, "give a name (1-64 characters) and a number (1-32)")
        about = line.get("about", {})
        if not isinstance(about, dict) or first not in about:
            raise ConfigError(
                f"{where} about", f'write what it is for and when it is open, at least in "{first}"'
            )
        for language, text in about.items():
            if language not in LANGUAGES or not 1 <= len(str(text).strip()) <= 300:
                raise ConfigError(
                    f"{where} about.{language}",
                    f"a language of {', '.join(LANGUAGES)} with a text of 1-300 characters",
                )
        texts = tuple((language, str(text).strip()) for language, text in about.items())
        lines.append(HelpLineSettings(name=name, number=phone, about=texts))
    return tuple(lines)


def _alarm_words(value: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[councils.alarm_words]: per language, the words and phrases that get the help lines."""
    key = f"{key} alarm_words"
    if not isinstance(value, dict):
        raise ConfigError(key, 'must be a table of lists, e.g. nl = ["slaan", "niet veilig"]')
    lists = []
    for language, words in value.items():
        if language not in LANGUAGES:
            raise ConfigError(f"{key}.{language}", f"choose from {', '.join(LANGUAGES)}")
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise ConfigError(f"{key}.{language}", "must be a list of words and phrases")
        for word in words:
            if not 1 <= len(word) <= 80 or not re.search(r"[^\W_]", word):
                raise ConfigError(f"{key}.{language}", f"{word!r}: 1-80 characters, with letters")
            if "*" in word.replace("* ", " ").rstrip("*"):
                raise ConfigError(f"{key}.{language}", f"{word!r}: * only at the end of a word")
        lists.append((language, tuple(words)))
    return tuple(lists)


def database_url(url: str, *, base_dir: Path) -> str:
    """Turn a configured URL into an async SQLAlchemy URL; default a SQLite file."""
    if not url:
        return f"sqlite+aiosqlite:///{base_dir / 'achterban.sqlite3'}"
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ConfigError(
        "[database] url",
        "use sqlite:///path/to/file.sqlite3 or postgresql://user@host/db "
        f"(got {url.split(':')[0]}:…)",
    )


def _admins(value: Any) -> frozenset[int]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError("[access] admins", "must be a list of Telegram user ids, e.g. [12345]")
    try:
        return frozenset(int(str(item).strip()) for item in items if str(item).strip())
    except ValueError:
        raise ConfigError(
            "[access] admins", "must be numeric Telegram user ids, e.g. [12345]"
        ) from None


def _section(raw: dict[str, Any], name: str, prefix: str = "") -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{prefix}{name}]", "must be a table")
    return value


def _choice(
    section: dict[str, Any], name: str, key: str, allowed: tuple[str, ...], default: str
) -> str:
    value = str(section.get(key, default))
    if value not in allowed:
        options = " or ".join(f'"{option}"' for option in allowed)
        raise ConfigError(f"[{name}] {key}", f"must be {options} (got {value!r})")
    return value


def _integer(
    section: dict[str, Any], name: str, key: str, default: int, *, low: int, high: int
) -> int:
    value = section.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[{name}] {key}", f"must be a whole number (got {value!r})") from None
    if not low <= number <= high:
        raise ConfigError(f"[{name}] {key}", f"must be between {low} and {high} (got {number})")
    return number


def _boolean(section: dict[str, Any], name: str, key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"[{name}] {key}", f"must be true or false, without quotes (got {value!r})"
        )
    return value


def _timezone(value: Any, key: str) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            key, f"unknown timezone {value!r}; use a name like Europe/Amsterdam"
        ) from None
    return str(value)
