"""A socket reader with one deadline for a whole request, however the bytes trickle in.

A per-read socket timeout restarts with every byte received, so a client sending one
header byte a second holds a connection (and a server thread) for as long as it likes.
:class:`DeadlineReader` gives each read only the time left until the request's deadline.
"""
from __future__ import annotations

import io
import socket
import time

__all__ = ["DeadlineReader"]


class DeadlineReader(io.RawIOBase):
    """Raw reads from ``sock`` that raise ``TimeoutError`` once ``seconds`` have passed since :meth:`restart`."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        super().__init__()
        self._sock = sock
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds

    def restart(self) -> None:
        """Start the deadline of the next request now."""
        self.deadline = time.monotonic() + self.seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"the request was not received within {self.seconds:g} s")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self.seconds)  # writes (the reply) keep the plain per-operation timeout
