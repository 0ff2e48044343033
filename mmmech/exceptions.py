"""Exceptions raised by mmmech.

Every error mmmech raises on purpose derives from :class:`MmmechError`, and also from the
built-in exception a Python user would expect (``KeyError`` for an unknown name,
``ValueError`` for a bad value, ...), so ``except ValueError`` keeps working.
The CLI turns any ``MmmechError`` into one line on stderr and exit code 2.
"""

__all__ = [
    "MmmechError",
    "InvalidInputError",
    "UnknownNameError",
    "UnknownDrugError",
    "UnknownNodeError",
    "UnknownTargetError",
    "UnknownContextError",
    "UnitError",
    "ModelFileError",
    "StructureError",
    "MutationError",
    "FitError",
    "ConvergenceError",
    "KernelUnavailableError",
    "NetworkUnavailableError",
    "OutputError",
]


class MmmechError(Exception):
    """Root of every error mmmech raises on purpose."""


class InvalidInputError(MmmechError, ValueError):
    """An argument has the wrong shape, type, range or content."""


class UnknownNameError(MmmechError, KeyError):
    """A name (drug, node, target, context, ...) is not known.

    ``KeyError`` quotes its argument when printed; this class prints the plain message.
    """

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownDrugError(UnknownNameError):
    """A drug name or synonym is not in the library."""


class UnknownNodeError(UnknownNameError):
    """A node name is not in the pathway model."""


class UnknownTargetError(UnknownNameError):
    """A gene symbol is not in the target registry."""


class UnknownContextError(UnknownNameError):
    """A context is neither bundled nor a readable context file."""


class UnitError(InvalidInputError):
    """A concentration lacks a unit, or the unit is unknown or cannot be converted."""


class ModelFileError(InvalidInputError):
    """A model, context or data file is malformed (the message names file, line and problem)."""


class StructureError(InvalidInputError):
    """A structure file cannot be read, or lacks what was asked of it."""


class MutationError(InvalidInputError):
    """A mutation is malformed or does not match the wild-type sequence."""


class FitError(MmmechError, RuntimeError):
    """A dose-response curve could not be fitted."""


class ConvergenceError(MmmechError, RuntimeError):
    """A simulation did not reach steady state within its budget."""


class KernelUnavailableError(MmmechError, ImportError):
    """The compiled kernels are missing (the package was not built)."""


class NetworkUnavailableError(MmmechError, OSError):
    """A download was asked for but the network cannot be reached."""


class OutputError(MmmechError, OSError):
    """An output file cannot be written (no permission, disk full, ...): names file and reason."""
