"""The one error hierarchy of the platform.

Services and repositories raise these; `chalicelib.api.routing` is the only place that
turns them into HTTP responses. `value` is echoed to the client, so it must never carry
a secret (callers pass it only for fields that are not secret).
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class AppError(Exception):
    status = 500
    default_message = "Internal server error."

    def __init__(self, message: str | None = None, property: str | None = None, value: Any = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.property = property
        self.value = value

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.property is not None:
            body["property"] = self.property
        if self.value is not None:
            body["value"] = self.value
        return body


class BadRequestError(AppError):
    status = 400
    default_message = "Bad request."


class UnauthorizedError(AppError):
    status = 401
    default_message = "Unauthorized."


class ForbiddenError(AppError):
    status = 403
    default_message = "Forbidden resource."


class NotFoundError(AppError):
    status = 404
    default_message = "Not found."


class ConflictError(AppError):
    status = 409
    default_message = "Conflict."


class PayloadTooLargeError(AppError):
    status = 413
    default_message = "Request body too large."


class PreconditionFailedError(AppError):
    status = 412
    default_message = "Precondition failed."


class TooManyRequestsError(AppError):
    """429; `retry_after` (seconds) becomes the `Retry-After` header."""

    status = 429
    default_message = "Too many attempts, try again later."

    def __init__(self, message: str | None = None, retry_after: int = 1, property: str | None = None):
        super().__init__(message, property)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailableError(AppError):
    status = 503
    default_message = "Service temporarily unavailable, try again."


def not_found(entity: str) -> NotFoundError:
    """404 naming the entity the way dyrector does (`property` = entity name)."""
    return NotFoundError(f"{entity.capitalize()} not found.", property=entity)


def found_or_404(item: T | None, entity: str) -> T:
    """`item`, or a 404 naming the entity when the lookup found nothing (the get-or-404 of every service)."""
    if item is None:
        raise not_found(entity)
    return item


def taken(entity: str, property: str = "name", value: Any = None) -> ConflictError:
    """409 for a uniqueness guard that already exists."""
    return ConflictError(f"{entity.capitalize()} {property} taken.", property=property, value=value)


def limit_reached(message: str, property: str, value: Any) -> ConflictError:
    """409 for a write refused because it would pass one of the caps that keep every list a route
    embeds within one read (`settings`: users per team, teams per user, ...); `value` is the cap or
    the value it concerns."""
    return ConflictError(message, property=property, value=value)
