"""Thread pools for deterministic tests of background work, injected where the app takes one.

:class:`SyncPool` runs each piece of work as it is started, on the test's thread (the idea of
Picard's ``FakeThreadPool``). :class:`HeldPool` keeps work queued until the test releases it,
in the order the test chooses, so "the older answer arrives last" is a fact of the test rather
than a timing accident. Either way the outcomes reach their callbacks through the event loop,
as they do from a real pool.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRunnable


class SyncPool:
    def __init__(self) -> None:
        self.started = 0

    def start(self, runnable: QRunnable) -> None:
        self.started += 1
        runnable.run()

    def tryTake(self, runnable: QRunnable) -> bool:  # noqa: N802 - Qt's name
        return False

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 - Qt's name
        return True


class HeldPool:
    """``running=True``: the held work counts as already running, so it cannot be taken back
    (a cancel or a newer request only stops its answer, as with a real pool's busy thread)."""

    def __init__(self, *, running: bool = False) -> None:
        self.queued: list[QRunnable] = []
        self.running = running

    def __len__(self) -> int:
        return len(self.queued)

    def start(self, runnable: QRunnable) -> None:
        self.queued.append(runnable)

    def tryTake(self, runnable: QRunnable) -> bool:  # noqa: N802 - Qt's name
        if not self.running and runnable in self.queued:
            self.queued.remove(runnable)
            return True
        return False

    def release(self, index: int = 0) -> None:
        """Run the ``index``-th queued piece of work (0: the oldest, -1: the newest) and
        deliver its outcome."""
        self.queued.pop(index).run()
        QCoreApplication.processEvents()

    def release_in(self, order: list[int]) -> None:
        """Run the work queued so far in this order of queue positions (0: the oldest)."""
        queued = list(self.queued)
        for position in order:
            self.release(self.queued.index(queued[position]))

    def release_all(self) -> None:
        while self.queued:
            self.release(0)

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 - Qt's name
        """What a real pool's wait does: everything queued runs."""
        while self.queued:
            self.queued.pop(0).run()
        return True


def deliver() -> None:
    """Let queued outcomes reach their callbacks."""
    QCoreApplication.processEvents()
