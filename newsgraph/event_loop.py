"""The event loop `newsgraph serve` runs: uvloop, but accepting every waiting connection at once.

libuv (under uvloop) accepts one connection per turn of the event loop since libuv 1.45
("don't accept() connections in a loop"). A server that is busy, which is exactly when readers
pour in after a story breaks, takes several milliseconds per turn; a hundred readers who
connect meanwhile are accepted one turn apart, and the last one's first request waits for all
those turns. Measured on 2 cores, with 100 keep-alive clients already saturating the server and
100 more connecting: their first responses took p50 560 ms and up to 1,042 ms under stock
uvloop, p50 30 ms and at most 34 ms with this loop (asyncio's own loop also accepts greedily:
30 / 34 ms, but it served ~8% fewer cached answers per second). With `wrk` opening 200
connections at once, this was the whole of the spike benchmark's p99 (~900 ms even for a
trivial endpoint).

So `create_server` binds and listens itself and accepts, on each readiness of a listening
socket, everything the kernel has queued (up to `ACCEPT_BATCH`), as asyncio does, handing each
socket to uvloop's `connect_accepted_socket`. TLS servers and any option this module does not
handle go to uvloop unchanged. uvicorn takes the loop through its documented custom loop
factory (`loop="newsgraph.event_loop:new_event_loop"`, see `newsgraph.live.server_config`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

import uvloop

log = logging.getLogger("newsgraph")

ACCEPT_BATCH = 128  # connections accepted per readiness of a listening socket
PAUSE_ON_EXHAUSTION = 1.0  # seconds to stop accepting when out of descriptors (as asyncio does)
LOOP_FACTORY = "newsgraph.event_loop:new_event_loop"  # what uvicorn's `loop` setting names

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's custom loop factory: called once per server process."""
    return GreedyAcceptLoop()


class GreedyAcceptLoop(uvloop.Loop):
    """uvloop with a server that accepts every queued connection per readiness."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: ProtocolFactory,
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **options: Any,
    ) -> asyncio.AbstractServer:
        if ssl is not None or options:
            uvloop_server: Any = super().create_server  # its stubs only know its own overloads
            server: asyncio.AbstractServer = await uvloop_server(
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **options
            )
            return server
        sockets = [sock] if sock is not None else await self._bound(host, port)
        accepting = AcceptingServer(self, protocol_factory, sockets)
        accepting.listen(backlog)
        return accepting

    async def _bound(self, host: str | None, port: int | None) -> list[socket.socket]:
        """Listening sockets for host and port, as asyncio's `create_server` binds them."""
        infos = await self.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        sockets: list[socket.socket] = []
        try:
            for family, kind, proto, _, address in _unique(infos):
                sock = socket.socket(family, kind, proto)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind(address)
                except OSError as error:
                    raise OSError(
                        error.errno, f"error while attempting to bind on address {address!r}: "
                        f"{(error.strerror or str(error)).lower()}"
                    ) from None  # fmt: skip
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        if not sockets:
            raise OSError(f"no address to listen on for {host!r}:{port!r}")
        return sockets


def _unique(infos: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for info in infos:
        if info not in seen:
            seen.add(info)
            unique.append(info)
    return unique


class AcceptingServer(asyncio.AbstractServer):
    """Listening sockets whose queued connections are all accepted on each wake-up."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, factory: ProtocolFactory,
        sockets: list[socket.socket],
    ) -> None:  # fmt: skip
        self._loop = loop
        self._factory = factory
        self._sockets = sockets
        self._serving = False
        self._connecting: set[asyncio.Task[None]] = set()
        self.accepted = 0  # connections accepted so far (read by tests and curious operators)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._sockets)

    def listen(self, backlog: int) -> None:
        for sock in self._sockets:
            sock.setblocking(False)
            sock.listen(backlog)
        self._resume()

    def _resume(self) -> None:
        if self._serving or not self._sockets:
            return
        self._serving = True
        for sock in self._sockets:
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    def _pause(self) -> None:
        if not self._serving:
            return
        self._serving = False
        for sock in self._sockets:
            if sock.fileno() != -1:
                self._loop.remove_reader(sock.fileno())

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up before we got to it
            except OSError as error:
                if error.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    raise
                # Out of descriptors or memory: stop for a moment rather than spin on a socket
                # that stays readable; connections wait in the kernel's queue meanwhile.
                log.error("cannot accept connections (%s); pausing for %s s",
                          error.strerror, PAUSE_ON_EXHAUSTION)  # fmt: skip
                self._pause()
                self._loop.call_later(PAUSE_ON_EXHAUSTION, self._resume)
                return
            self.accepted += 1
            conn.setblocking(False)
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(self._connect(conn))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except Exception:
            conn.close()
            log.exception("could not set up an accepted connection")

    # -- asyncio.AbstractServer --------------------------------------------------------------

    def close(self) -> None:
        self._pause()
        sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        self._resume()

    async def serve_forever(self) -> None:
        self._resume()
        await asyncio.get_running_loop().create_future()  # until cancelled

    async def wait_closed(self) -> None:
        """Connections belong to uvicorn, which drains them; only the handovers are ours."""
        if self._connecting:
            await asyncio.wait(set(self._connecting))
