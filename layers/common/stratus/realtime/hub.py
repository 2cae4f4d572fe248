"""The dev server's sockets: an in-process map of connection id → deliver function.

Publishers may run on any thread (a uvicorn worker, a moto Step Functions thread); delivery is
handed to the socket's own event loop.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass(slots=True)
class _Socket:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[bytes]


class LocalSocketHub:
    def __init__(self) -> None:
        self._sockets: dict[str, _Socket] = {}
        self._lock = threading.Lock()

    def register(self, connection_id: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes]) -> None:
        with self._lock:
            self._sockets[connection_id] = _Socket(loop, queue)

    def unregister(self, connection_id: str) -> None:
        with self._lock:
            self._sockets.pop(connection_id, None)

    def deliver(self, connection_id: str, data: bytes) -> bool:
        """False when the connection is gone, as API Gateway's GoneException says."""
        with self._lock:
            socket = self._sockets.get(connection_id)
        if socket is None or socket.loop.is_closed():
            return False
        socket.loop.call_soon_threadsafe(socket.queue.put_nowait, data)
        return True

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._sockets)


local_hub = LocalSocketHub()
