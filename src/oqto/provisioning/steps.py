"""Ordered, idempotent provisioning steps with rollback.

Each step's `apply` returns whether it changed anything; on a failure, the steps that did
are undone in reverse order, so a failed `oqtoctl user create` (or registration) leaves the
host as it found it. A step that found its work already done is never undone: re-running a
create after a partial failure must not tear down what an earlier, successful run built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


class Step(Protocol):
    title: str

    def apply(self) -> bool: ...

    def undo(self) -> None: ...


class StepFailed(Exception):
    def __init__(self, title: str, cause: BaseException, undo_errors: list[str]) -> None:
        self.title = title
        self.cause = cause
        self.undo_errors = undo_errors
        message = f"{title}: {cause}"
        if undo_errors:
            message += "; rolling back also failed: " + "; ".join(undo_errors)
        super().__init__(message)


@dataclass(frozen=True)
class StepEvent:
    title: str
    status: str  # "start", "done", "unchanged", "failed", "undone", "undo-failed"
    seconds: float = 0.0
    detail: str = ""


Progress = Callable[[StepEvent], None]


def quiet(_event: StepEvent) -> None:
    pass


@dataclass
class Transaction:
    progress: Progress = quiet
    applied: list[Step] = field(default_factory=list)

    def run(self, steps: list[Step]) -> None:
        for step in steps:
            self.progress(StepEvent(step.title, "start"))
            started = time.monotonic()
            try:
                changed = step.apply()
            except BaseException as exc:
                self.progress(StepEvent(step.title, "failed", time.monotonic() - started, str(exc)))
                errors = self.rollback()
                raise StepFailed(step.title, exc, errors) from exc
            elapsed = time.monotonic() - started
            self.progress(StepEvent(step.title, "done" if changed else "unchanged", elapsed))
            if changed:
                self.applied.append(step)

    def rollback(self) -> list[str]:
        errors = []
        while self.applied:
            step = self.applied.pop()
            try:
                step.undo()
                self.progress(StepEvent(step.title, "undone"))
            except Exception as exc:
                log.exception("undoing %r failed", step.title)
                errors.append(f"{step.title}: {exc}")
                self.progress(StepEvent(step.title, "undo-failed", detail=str(exc)))
        return errors
