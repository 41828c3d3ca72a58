"""Graph API errors: the codes the simulator answers with, their HTTP status and texts."""

from __future__ import annotations

import secrets

JSON = dict[str, object]

# code -> (HTTP status, title, details)
CODES: dict[int, tuple[int, str, str]] = {
    100: (400, "Invalid parameter", "Invalid parameter"),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Something went wrong."),
    131009: (400, "Parameter value is not valid", "Parameter value is not valid"),
    131026: (
        400,
        "Message undeliverable",
        "Message Undeliverable: the recipient is not on WhatsApp or cannot receive this message.",
    ),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last"
        " replied to this number.",
    ),
    131048: (
        400,
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent"
        " from this phone number.",
    ),
    131051: (400, "Unsupported message type", "Message type is not currently supported."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number"
        " to the same phone number in a short period of time.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "The number of parameters does not match the template.",
    ),
    132001: (
        404,
        "Template name does not exist in the translation",
        "The template does not exist in this language.",
    ),
    368: (
        400,
        "Temporarily blocked for policies violations",
        "The account is restricted from sending messages for violating WhatsApp policies.",
    ),
}
EXPIRED = "Error validating access token: Session has expired."
INVALID_TOKEN = "Invalid OAuth access token."


def fbtrace_id() -> str:
    """An opaque trace id like the ones Meta adds to every error."""
    return "A" + secrets.token_urlsafe(16)[:22]


def title_of(code: int) -> str:
    """The short title of a code (what failed statuses carry)."""
    return CODES.get(code, (400, "Error", ""))[1]


def details_of(code: int) -> str:
    """The default error_data.details of a code."""
    return CODES.get(code, (400, "Error", "Error"))[2]


class GraphError(Exception):
    """A refused Graph API call: HTTP status and the error object Meta answers with."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        message: str | None = None,
        status: int | None = None,
        kind: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        known_status, title, default_details = CODES.get(code, (400, "Error", "Error"))
        self.code = code
        self.status = status if status is not None else known_status
        self.message = message if message is not None else f"(#{code}) {title}"
        self.details = details if details is not None else default_details
        self.kind = kind
        self.subcode = subcode
        super().__init__(self.message)

    def body(self) -> JSON:
        """The JSON body: {"error": {...}}."""
        error: JSON = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.kind == "OAuthException" and self.code not in (190, 2500):
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def invalid(details: str) -> GraphError:
    """A 131009 "Parameter value is not valid" naming the field in details."""
    return GraphError(131009, details)


def token_error(*, expired: bool) -> GraphError:
    """The 401 answered for a missing, wrong or expired access token."""
    message = EXPIRED if expired else INVALID_TOKEN
    return GraphError(190, message=message, status=401, subcode=463 if expired else None)


def unsupported(method: str, node: str) -> GraphError:
    """Graph's answer for a node that does not exist or does not take this method."""
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot be"
        " loaded due to missing permissions, or does not support this operation."
    )
    return GraphError(100, message, message=message, kind="GraphMethodException", subcode=33)


def missing(parameter: str) -> GraphError:
    """A required parameter is absent (code 100)."""
    return GraphError(
        100,
        f"The parameter {parameter} is required.",
        message=f"(#100) The parameter {parameter} is required.",
    )
