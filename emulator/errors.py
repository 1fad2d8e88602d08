"""The Bot API's error envelope: one exception carrying Telegram's code, text, parameters."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request Telegram would refuse: `{"ok": false, ...}` with HTTP status = code."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    @classmethod
    def bad_request(cls, text: str, parameters: dict[str, Any] | None = None) -> ApiError:
        return cls(400, f"Bad Request: {text}", parameters)

    @classmethod
    def forbidden(cls, text: str) -> ApiError:
        return cls(403, f"Forbidden: {text}")

    @classmethod
    def unauthorized(cls) -> ApiError:
        return cls(401, "Unauthorized")

    @classmethod
    def not_found(cls) -> ApiError:
        return cls(404, "Not Found")

    @classmethod
    def conflict(cls, text: str) -> ApiError:
        return cls(409, f"Conflict: {text}")

    @classmethod
    def too_many_requests(cls, retry_after: int) -> ApiError:
        return cls(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
