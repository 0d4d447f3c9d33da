"""Exceptions of the loader, each carrying the CLI exit code it maps to."""

from __future__ import annotations

from common.errors import AppError, ConfigError, UsageError
from loader.scrub import scrub

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "LoaderError",
    "ScrubbedError",
    "UsageError",
    "WindowError",
]

# A failed load (exit 1); bad input (UsageError, ConfigError: exit 2) derives from it too, so the CLI
# catches both with one clause.
LoaderError = AppError


class ScrubbedError(LoaderError):
    """A failed load whose message is scrubbed of the run's secrets and tokens when it is made, so no
    later copy (stderr, logs, the dlt trace) can show them; it may quote server text."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(scrub(message), *args)


class AuthError(ScrubbedError):
    """The OAuth client was rejected or lacks permission (never carries the secret or a token)."""


class ApiError(ScrubbedError):
    """A Genesys API call failed for good: endpoint, status, Genesys message, code and correlation id."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        endpoint: str | None = None,
        retryable: bool = False,
        too_large: bool = False,
        bad_filter: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.endpoint = endpoint
        self.retryable = retryable
        self.too_large = too_large
        self.bad_filter = bad_filter  # a 400 about the query filter: splitting the window cannot help


class WindowError(ScrubbedError):
    """A time window could not be loaded even after retries and splitting."""
