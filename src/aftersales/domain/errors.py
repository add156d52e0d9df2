"""
AftersalesError
├── InputError        a message, order file or batch line that cannot be used  → CLI exit 2
└── ConfigError       a setting, policy, cue or model file that cannot be used → CLI exit 2
    ├── PolicyError       the policy file, every problem with its line (adapters/policy/file.py)
    ├── CueError          the cue book (domain/routing/cues.py)
    └── RouteSpecError    the route specs or a policy's override of one (domain/routing/specs.py)

The shell catches ``ConfigError`` once (the CLI's ``main``, the web's error handler): it never
needs to know which file the problem is in, nor import an adapter to find out.
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
    """A store's configuration (settings, policy file, cues, route specs, model file) cannot be used."""

    # What cannot be used, when the message lists problems under it ("the policy file"); the
    # shell heads the message with it. Empty: the message says it all.
    subject = ""


def headed(error: AftersalesError) -> str:
    """The message as the shell shows it: under what cannot be used, when the error lists
    several problems in one thing (a policy file), else the message alone."""
    if isinstance(error, ConfigError) and error.subject:
        return f"{error.subject} cannot be used:\n{error}"
    return str(error)
