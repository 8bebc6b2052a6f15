"""What can go wrong with an experiment, with the request field it concerns, so
the API (404, 409, 400) and the CLI (one line) can say so without parsing text."""

from __future__ import annotations


class ExperimentError(Exception):
    def __init__(self, message: str, field: str = "experiment"):
        super().__init__(message)
        self.message = message
        self.field = field


class ExperimentNotFound(ExperimentError, LookupError):
    def __init__(self, name: str, field: str = "experiment"):
        super().__init__(f"unknown experiment {name!r}", field)


class ExperimentNotRunning(ExperimentError):
    def __init__(self, name: str, status: str, field: str = "experiment"):
        super().__init__(f"experiment {name!r} is {status}, not running", field)
        self.status = status


class ExperimentExists(ExperimentError):
    def __init__(self, name: str):
        super().__init__(f"an experiment named {name!r} exists already", "name")


class ExperimentStateError(ExperimentError):
    """A lifecycle step its status does not allow (start a stopped one, stop a draft)."""


class InvalidExperiment(ExperimentError, ValueError):
    """A definition that cannot run; `field` is its path, e.g. arms.1.case."""
