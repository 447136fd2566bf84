"""Run long, CPU-bound work (sync, export) in a child process.

Sync and export are pure Python that hold the GIL for most of their time. Run on a thread of
the desktop app, they make the GUI thread wait for the GIL on every call it makes into Python
(a repaint of the contacts table is about two thousand of them), and the window stalls for
hundreds of milliseconds. In a child process they compete with the GUI only for a CPU core,
and the child lowers its own scheduling priority so the GUI wins that too.

:func:`run_in_child` is called from a worker thread of the parent. It starts the child with the
``spawn`` method (forking a process that runs Qt threads is unsafe), relays the child's progress
reports to ``progress``, turns ``is_cancelled()`` into a cancel request the child polls between
batches, and returns the child's result or raises its exception. The parent thread spends its
time blocked in ``poll``, which releases the GIL.

Targets are plain module-level functions called as ``target(*args, progress=…,
is_cancelled=…)``; their arguments, progress values, results and exceptions must pickle. The
child notices a parent that died and treats it as a cancel, so it never outlives the app by
more than one batch.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

CHILD_NICENESS = 5  # lower than the GUI, so a busy child never starves the window
POLL_SECONDS = 0.05
JOIN_SECONDS = 10.0


class BackgroundProcessError(RuntimeError):
    """The child ended without a result (killed, crashed) or raised something unpicklable."""


def _spawn_context() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


def run_in_child(
    target: Callable[..., Any],
    *args: Any,
    progress: Callable[[Any], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    name: str = "flowdesk-job",
) -> Any:
    """Call ``target(*args, progress=…, is_cancelled=…)`` in a child process; return its result.

    Exceptions raised by the target are raised here with the child's traceback text in
    ``__traceback_text__``. A child that dies without answering raises
    :class:`BackgroundProcessError`. Call it from a worker thread, never the GUI thread: on
    Linux it lowers the calling thread's priority for good (see below).
    """
    _lower_this_threads_priority()
    context = _spawn_context()
    receiver, sender = context.Pipe(duplex=False)
    cancel = context.Event()
    process = context.Process(
        target=_child_main, args=(target, args, sender, cancel), name=name, daemon=True
    )
    process.start()
    sender.close()  # the child holds the only writing end: EOF means it is gone
    try:
        return _relay(process, receiver, cancel, progress, is_cancelled)
    finally:
        receiver.close()
        _reap(process, cancel)


def _lower_this_threads_priority() -> None:
    """On Linux, niceness belongs to a thread and a child inherits its creator's: lowering the
    calling (relay) thread's priority makes the child start low, so even its start-up — the
    interpreter and its imports — yields the CPU to the GUI. Elsewhere ``nice`` would lower the
    whole app, so there the child lowers only itself once it runs."""
    if sys.platform.startswith("linux"):
        _lower_priority_to(CHILD_NICENESS)


def _lower_priority_to(niceness: int) -> None:
    if not hasattr(os, "nice"):
        return
    with contextlib.suppress(OSError):
        current = os.nice(0)
        if current < niceness:
            os.nice(niceness - current)


def _relay(process, receiver: Connection, cancel, progress, is_cancelled) -> Any:  # noqa: ANN001
    while True:
        if is_cancelled is not None and not cancel.is_set() and is_cancelled():
            cancel.set()
        if not receiver.poll(POLL_SECONDS):
            continue
        try:
            kind, payload = receiver.recv()
        except EOFError:
            process.join(JOIN_SECONDS)
            raise BackgroundProcessError(
                f"The background process stopped unexpectedly (exit code {process.exitcode})."
            ) from None
        if kind == "progress":
            if progress is not None:
                progress(payload)
        elif kind == "result":
            return payload
        elif kind == "error":
            exc, text = payload
            with contextlib.suppress(AttributeError, TypeError):
                exc.__traceback_text__ = text
            raise exc
        else:  # pragma: no cover - the protocol has three kinds
            raise BackgroundProcessError(
                f"The background process sent an unknown message {kind!r}."
            )


def _reap(process, cancel) -> None:  # noqa: ANN001
    """Make sure the child is gone: ask, wait, then insist."""
    if process.is_alive():
        cancel.set()
        process.join(JOIN_SECONDS)
    if process.is_alive():
        log.warning("background process %s did not stop; terminating it", process.pid)
        process.terminate()
        process.join(JOIN_SECONDS)
    with contextlib.suppress(ValueError):
        process.close()


def _child_main(target: Callable[..., Any], args: tuple, sender: Connection, cancel) -> None:  # noqa: ANN001
    _lower_priority_to(CHILD_NICENESS)
    parent = multiprocessing.parent_process()

    def cancelled() -> bool:
        return cancel.is_set() or (parent is not None and not parent.is_alive())

    def report(value: Any) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            sender.send(("progress", value))

    try:
        result = target(*args, progress=report, is_cancelled=cancelled)
    except BaseException as exc:  # everything goes back to the parent
        _send_error(sender, exc)
    else:
        try:
            sender.send(("result", result))
        except (BrokenPipeError, OSError):
            pass  # the parent is gone; nobody is waiting for the result
        except Exception as exc:  # the result does not pickle: a bug, reported as one
            _send_error(sender, exc)
    sender.close()


def _send_error(sender: Connection, exc: BaseException) -> None:
    with contextlib.suppress(BrokenPipeError, OSError):
        sender.send(("error", (_picklable(exc), traceback.format_exc())))


def _picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a plain stand-in with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return BackgroundProcessError(f"{type(exc).__name__}: {exc}")
    return exc


def probe(*, progress: Callable[[Any], None], is_cancelled: Callable[[], bool]) -> dict[str, Any]:
    """A child that only says who it is: proves background jobs can start on this install."""
    progress("started")
    return {"pid": os.getpid(), "frozen": bool(getattr(sys, "frozen", False))}
