"""The project's exceptions: one small module, as in python-tuf.

Every error a user can cause is a :class:`SunshineError`. Messages follow the
"expected X, got Y" pattern and may carry a ``hint`` that the CLI prints on its own
``hint:`` line (the age / Sunlight style).

Exit codes used by the CLI (``sunshine.cli``):

====  ==========================================================
 0    success
 1    the command failed (invalid data, refused action, bad input)
 2    usage error (unknown option, missing argument)
 3    policy findings: the data or ledger is intact but breaks a rule
 4    integrity failure: tamper evidence (bad signature, hash, proof)
====  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_INTEGRITY = 4


class SunshineError(Exception):
    """Base class of every error the project raises on purpose."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about an input file.

    ``location`` is ``"line 12"`` for tables and text, or an entry path such as
    ``"tasks[3].strata[0]"`` for YAML. ``severity`` is ``"error"`` or ``"warning"``.
    """

    file: str
    location: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, self.location) if p)
        field = f", field {self.field!r}" if self.field else ""
        return f"{where}{field}: {self.message}"


class DataError(SunshineError):
    """Input data is invalid. Carries *all* problems found, not just the first."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} error(s) in the data"
        if errors:
            head += ":\n" + "\n".join(f"  {p}" for p in errors[:200])
            if len(errors) > 200:
                head += f"\n  … and {len(errors) - 200} more"
        super().__init__(head, hint=hint)


class FormatError(SunshineError):
    """Bytes that do not parse as the expected wire format (non-canonical, malformed)."""


class IntegrityError(SunshineError):
    """Tamper evidence: a signature, hash, chain link or Merkle proof does not verify."""

    exit_code = EXIT_INTEGRITY


class PolicyError(SunshineError):
    """An action refused because it breaks a rule the software enforces."""


class DrawError(SunshineError):
    """The draw cannot be computed from its inputs (e.g. infeasible team constraints)."""


class BeaconError(SunshineError):
    """A randomness beacon is malformed, for another chain, or its signature is invalid."""

    exit_code = EXIT_INTEGRITY


class KeyFileError(SunshineError):
    """A key file is missing, malformed, or the passphrase is wrong."""


class LedgerError(SunshineError):
    """The ledger cannot be read or written (locked, missing, or in an unexpected state)."""


class CalendarError(SunshineError):
    """A working-day computation needs a year the official calendar does not know (fail closed)."""


class BuildError(SunshineError):
    """The portal cannot be built (missing theme, content or settings, a template error, search indexer)."""
