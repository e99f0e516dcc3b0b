"""The worker process of :class:`~nas_core.experiment.ProcessPoolExecutor`.

A worker runs one call at a time, received on its own pipe, and sends back
``("ok", result)`` or ``("error", exception)``; any exception of the call, ``SystemExit``
and ``KeyboardInterrupt`` included, is that call's error and the worker goes on. It sees
only its devices (``CUDA_VISIBLE_DEVICES`` is set before anything can initialise CUDA),
ignores Ctrl-C (the search handles it), and exits as soon as its parent dies: a thread
blocks on a lifeline pipe whose only writer is the parent.
"""
from __future__ import annotations

import os
import signal
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Any, Mapping

__all__ = ["worker_main", "RemoteError"]


class RemoteError(RuntimeError):
    """An error raised in a worker that could not be sent back as itself (it does not pickle)."""


def _exit_with_parent(lifeline: Connection) -> None:
    try:
        lifeline.recv()  # the parent never sends: this returns (EOFError) only when it is gone
    except (EOFError, OSError):
        pass
    os._exit(70)


def worker_main(conn: Connection, lifeline: Connection, env: Mapping[str, str]) -> None:
    """Serve calls on ``conn`` until told to stop (None), the pipe closes, or the parent dies."""
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(lifeline,), name="nas-lifeline", daemon=True).start()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        fn, args, kwargs = msg
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - the call's error, whatever it is, goes back to the caller
            reply = ("error", err)
        try:
            conn.send(reply)
        except Exception as err:  # noqa: BLE001 - an unpicklable result or error: send its text instead
            text = "".join(traceback.format_exception(type(reply[1]), reply[1], None)) if reply[0] == "error" else ""
            conn.send(("error", RemoteError(f"the worker could not send back the {reply[0]} value "
                                            f"({type(err).__name__}: {err}). {text}".strip())))
