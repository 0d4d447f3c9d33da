"""Errors both CLIs raise; each carries the exit code it maps to."""

from __future__ import annotations


class AppError(Exception):
    """A run failed; the message says what failed and what to do next. Exit code 1."""

    exit_code = 1


class UsageError(AppError):
    """Bad input from the user (options, config, files): nothing was changed. Exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """Invalid option or configuration value; the one-line message says what to fix."""
