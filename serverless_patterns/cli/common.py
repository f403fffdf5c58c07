"""What every subcommand shares: one-line errors, optional extras imported lazily, progress lines."""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType
from typing import NoReturn

PROG = "serverless-patterns"
# Exit codes: 2 for input the command refuses (as argparse does), 1 for a failure while running.
USAGE_ERROR = 2
FAILURE = 1


class CliError(Exception):
    """An expected failure: printed as one ``error:`` line, the process exits with ``code``."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``CliError``) instead of the usage block and ``SystemExit``."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (see --help)", USAGE_ERROR)


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or fail with the line that says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or module
        raise CliError(
            f'{purpose} needs {missing}, which is not installed: pip install "serverless-patterns[{extra}]"'
        ) from None


class Progress:
    """Prints one line per step of a long command (synthesis, deployment, draining)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, message: str) -> None:
        print(f"[{self.label}] {message}", flush=True)


def print_error(message: str) -> None:
    """The one line an expected failure prints."""
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
