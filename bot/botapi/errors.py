"""The error a Bot API method answers with, carried as an exception."""

from __future__ import annotations


class ApiError(Exception):
    """A Bot API error: HTTP status, Telegram's description and optional retry_after."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> dict[str, object]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, object] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(explanation: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {explanation}")


def forbidden(explanation: str) -> ApiError:
    """A 403 error with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {explanation}")


def conflict(explanation: str) -> ApiError:
    """A 409 error with Telegram's "Conflict: " prefix."""
    return ApiError(409, f"Conflict: {explanation}")


def not_found() -> ApiError:
    """The 404 Telegram answers for an unknown token or method."""
    return ApiError(404, "Not Found")
