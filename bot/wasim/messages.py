"""POST /{phone-number-id}/messages: sends (validated, windowed, rate limited) and read marks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.wasim.errors import JSON, GraphError, details_of, invalid, missing, title_of, token_error
from bot.wasim.ids import digits, new_wamid
from bot.wasim.message import outbound
from bot.wasim.validate import check_send, text_field
from bot.wasim.webhook import encode, envelope

if TYPE_CHECKING:
    from bot.wasim.server import LocalWhatsApp
    from bot.wasim.user import WaUser

STATUS_MODES = ("normal", "none", "late", "duplicated", "shuffled")


@dataclass(frozen=True)
class SendRecord:
    """An accepted outbound message."""

    at: float
    to: str
    wamid: str
    type: str


def handle_messages(server: LocalWhatsApp, payload: Any) -> JSON:
    """A send or a read mark."""
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        raise missing("messaging_product")
    if "status" in payload:
        return mark_read(server, payload)
    return send(server, payload)


def mark_read(server: LocalWhatsApp, payload: JSON) -> JSON:
    """{"status": "read", "message_id": …} for an inbound message → {"success": true}."""
    if payload["status"] != "read":
        raise invalid(f"status {payload['status']!r} is not valid (read)")
    wamid = text_field(payload.get("message_id"), "message_id", 1, 512)
    indicator = payload.get("typing_indicator")
    if indicator is not None and (
        not isinstance(indicator, dict) or indicator.get("type") != "text"
    ):
        raise invalid("typing_indicator.type must be text")
    user = server.inbound_owner.get(wamid)
    if user is None:
        raise GraphError(100, f"message_id {wamid!r} is not a message this number received")
    user.read_marks.append(wamid)
    server.read_event(wamid).set()
    return {"success": True}


def _recipient(server: LocalWhatsApp, payload: JSON) -> tuple[str, WaUser | None, set[str]]:
    """The input, the known user (or None) and the ids fault switches may name."""
    if "to" in payload:
        given = text_field(payload["to"], "to", 1, 64)
        wa_id = digits(given)
        if not wa_id:
            raise invalid(f"to {given!r} is not a phone number")
        user = server.users.get(wa_id)
        return given, user, {given, wa_id} | ({user.bsuid} if user and user.bsuid else set())
    if "recipient" in payload:
        bsuid = text_field(payload["recipient"], "recipient", 1, 160)
        user = next((u for u in server.users.values() if u.bsuid == bsuid), None)
        return bsuid, user, {bsuid} | ({user.wa_id} if user else set())
    raise missing("to")


def send(server: LocalWhatsApp, payload: JSON) -> JSON:
    """Validate and accept a message, or refuse it with a Graph error."""
    given, user, names = _recipient(server, payload)
    to = user.wa_id if user else (digits(given) if "to" in payload else given)
    try:
        kind = check_send(
            payload,
            templates=server.templates,
            buttons=server.template_buttons,
            media_ids=server.media.live(),
        )
        code = server.faults.take(names, kind)
        if code == 190:
            raise token_error(expired=True)
        if code is not None:
            raise GraphError(code)
        if server.faults.over_rate(time.monotonic(), server.messages_per_second):
            raise GraphError(130429)
        reachable = user is not None and user.on_whatsapp
        if reachable and kind != "template" and not user.window_open():  # type: ignore[union-attr]
            raise GraphError(131047)
    except GraphError as error:
        server.rejected.append((time.monotonic(), to, error.code))
        server.note(user.name if user else to, "out", f"refused {error.code}", "")
        raise
    return _accept(server, payload, kind, given, to, user, names)


def _accept(
    server: LocalWhatsApp,
    payload: JSON,
    kind: str,
    given: str,
    to: str,
    user: WaUser | None,
    names: set[str],
) -> JSON:
    """Record an accepted send, show it to the user and schedule its statuses."""
    now = time.monotonic()
    wamid = new_wamid(to)
    server.faults.accepted(now)
    server.sends.append(SendRecord(now, to, wamid, kind))
    who = user.name if user else to
    undeliverable = user is None or not user.on_whatsapp
    failed = 131026 if undeliverable else server.faults.take_status(names)
    if failed is None and user is not None:
        message = outbound(wamid, payload, server.template_buttons)
        user.messages.append(message)
        server.note(who, "out", message.kind, message.shown, message.titles)
    else:
        server.note(who, "out", f"failed {failed}", "")
    plan = status_plan(server.statuses, server.auto_read, failed, undeliverable=undeliverable)
    if plan:
        server.delivery.later(lambda: _post_statuses(server, wamid, to, user, kind, plan, failed))
    contact: JSON = {"input": given}
    if "to" in payload:
        contact["wa_id"] = to
    if user is not None and user.bsuid:
        contact["user_id"] = user.bsuid
    return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}


def status_plan(
    mode: str, auto_read: bool, failed: int | None, *, undeliverable: bool
) -> list[str]:
    """The statuses to post, in order, for one accepted send."""
    if mode not in STATUS_MODES:
        raise AssertionError(f"statuses must be one of {STATUS_MODES}, not {mode!r}")
    if failed is not None:
        plan = ["failed"] if undeliverable or mode == "none" else ["sent", "failed"]
    elif mode == "none":
        return []
    elif mode == "shuffled":
        plan = ["read", "sent", "delivered"]
    else:
        plan = ["sent", "delivered", "read"] if auto_read else ["sent", "delivered"]
    if mode == "shuffled" and failed is not None:
        plan.reverse()
    if mode == "duplicated":
        plan = [status for status in plan for _ in range(2)]
    return plan


def status_object(
    server: LocalWhatsApp,
    wamid: str,
    to: str,
    user: WaUser | None,
    kind: str,
    status: str,
    failed: int | None,
) -> JSON:
    """One entry of statuses[], as Meta posts it."""
    item: JSON = {"id": wamid, "status": status, "timestamp": str(int(server.now()))}
    item["recipient_id"] = to
    if user is not None and user.bsuid:
        item["recipient_user_id"] = user.bsuid
    if status == "failed" and failed is not None:
        title = title_of(failed)
        item["errors"] = [
            {
                "code": failed,
                "title": title,
                "message": title,
                "error_data": {"details": details_of(failed)},
            }
        ]
    else:
        category = "utility" if kind == "template" else "service"
        item["pricing"] = {
            "billable": kind == "template",
            "pricing_model": "PMP",
            "type": "regular",
            "category": category,
        }
    return item


async def _post_statuses(
    server: LocalWhatsApp,
    wamid: str,
    to: str,
    user: WaUser | None,
    kind: str,
    plan: list[str],
    failed: int | None,
) -> None:
    """POST each status separately, signed, shortly (or ~0.5 s when "late") after the send."""
    await asyncio.sleep(server.late_delay if server.statuses == "late" else server.status_delay)
    body, previous = b"", ""
    for index, status in enumerate(plan):
        if index:
            await asyncio.sleep(server.status_delay)
        if not server.webhook_url:
            continue
        if status != previous:  # a duplicate is the same bytes again
            item = status_object(server, wamid, to, user, kind, status, failed)
            body = encode(envelope(server.waba_id, server.metadata, {"statuses": [item]}))
            previous = status
        await server.delivery.deliver(body)
