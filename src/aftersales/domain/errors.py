"""
AftersalesError
├── InputError        a message, order file or batch line that cannot be used  → CLI exit 2
└── ConfigError       a policy, cue or model file that cannot be used          → CLI exit 2
"""

from __future__ import annotations


class AftersalesError(Exception):
    """Base of every error aftersales raises on purpose."""


class InputError(AftersalesError):
    """Input that cannot be routed; the message says what is wrong and where."""

    def __init__(self, problem: str, where: str = "") -> None:
        self.problem = problem
        self.where = where
        super().__init__(f"{where}: {problem}" if where else problem)


class ConfigError(AftersalesError):
    """A store's configuration (policy file, model file) cannot be used."""
