"""Errors the CLI reports as one clear line on stderr with a non-zero exit."""
from __future__ import annotations


class CrossingGuardError(Exception):
    exit_code = 1


class ConfigError(CrossingGuardError):
    """A configuration mistake, always located: file, line, key, and what was expected.

    str(err) is `FILE:LINE: KEY: MESSAGE`, the form editors and CI logs link to.
    """
    exit_code = 2

    def __init__(self, file: str, line: int | None, key: str, message: str):
        self.file, self.line, self.key, self.message = str(file), line, key, message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


class ConfigErrors(ConfigError):
    """Several configuration mistakes found in one run (check-config reports them all).

    str(err) is one `FILE:LINE: KEY: MESSAGE` line per mistake, in file order; the attributes of
    the first mistake stay available as for a single ConfigError.
    """

    def __init__(self, errors: list[ConfigError]):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line or 0))
        first = self.errors[0]
        super().__init__(first.file, first.line, first.key, first.message)

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(e) for e in self.errors)


class UsageError(CrossingGuardError):
    exit_code = 2
