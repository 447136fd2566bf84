"""Functions the background-process tests run in a child (importable by name, as spawn needs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flowdesk.core.export import ExportError


def count_to(n: int, *, progress, is_cancelled) -> dict:  # noqa: ANN001
    for i in range(1, n + 1):
        progress(i)
    return {"counted": n, "pid": os.getpid()}


def fail_clearly(message: str, *, progress, is_cancelled) -> None:  # noqa: ANN001
    raise ExportError(message)


class _Stubborn(Exception):
    """An exception whose constructor signature defeats unpickling."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


def fail_unpicklably(*, progress, is_cancelled) -> None:  # noqa: ANN001
    raise _Stubborn(1, 2)


def die(code: int, *, progress, is_cancelled) -> None:  # noqa: ANN001
    progress("about to die")
    os._exit(code)


def wait_for_cancel(marker: str, *, progress, is_cancelled) -> str:  # noqa: ANN001
    """Write our pid to ``marker``, then spin until told to stop."""
    Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not is_cancelled():
        if time.monotonic() > deadline:
            return "never canceled"
        time.sleep(0.01)
    return "canceled"


GATE_ENV = "FLOWDESK_TEST_EXPORT_GATE"


def gated_export(*args, progress, is_cancelled):  # noqa: ANN001, ANN002
    """The app's export, one row per batch, held after its first row until the file named by
    ``$FLOWDESK_TEST_EXPORT_GATE`` exists (or the job is canceled)."""
    from flowdesk.core import export as export_pkg
    from flowdesk.core.tasks import export_to_file

    export_pkg.BATCH_SIZE = 1  # this is the child's own copy of the module
    gate = Path(os.environ[GATE_ENV])

    def held(report: tuple[int, int]) -> None:
        progress(report)
        if report[0] > 0:
            deadline = time.monotonic() + 60
            while not gate.exists() and not is_cancelled() and time.monotonic() < deadline:
                time.sleep(0.01)

    return export_to_file(*args, progress=held, is_cancelled=is_cancelled)
