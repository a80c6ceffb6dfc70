"""The event loop `newsgraph serve` runs (`newsgraph.event_loop`): uvloop, accepting greedily.

Every HTTP and WebSocket suite also runs under this loop (conftest's `SERVER_STACKS`), so these
tests only pin what is particular to it: connections that queued while the loop was busy are
all accepted on its next turn, and binding fails the way uvicorn reports.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import ClassVar

import pytest

from newsgraph.event_loop import ACCEPT_BATCH, AcceptingServer, new_event_loop

QUEUED = 60


class Counting(asyncio.Protocol):
    """Notes every connection handed to it, so the test can close them before the loop."""

    made: ClassVar[list[asyncio.BaseTransport]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counting.made.append(transport)


@contextmanager
def running_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = new_event_loop()
    Counting.made = []
    try:
        yield loop
    finally:
        for transport in Counting.made:
            transport.close()
        loop.run_until_complete(asyncio.sleep(0.01))  # the transports' own close callbacks
        loop.close()


def test_connections_queued_while_the_loop_was_busy_are_accepted_on_its_next_turn() -> None:
    """Stock uvloop (libuv >= 1.45) accepts one per turn: on a busy server, the hundredth reader
    to connect waited a hundred turns for its first response."""
    with ExitStack() as clients, running_loop() as loop:
        server = loop.run_until_complete(loop.create_server(Counting, "127.0.0.1", 0))
        assert isinstance(server, AcceptingServer)
        port = server.sockets[0].getsockname()[1]
        for _ in range(QUEUED):  # the handshakes complete in the kernel: the loop is not running
            client = clients.enter_context(socket.create_connection(("127.0.0.1", port)))
            client.setblocking(False)
        loop.run_until_complete(asyncio.sleep(0))  # one turn: the listening socket is readable
        assert server.accepted == QUEUED <= ACCEPT_BATCH
        for _ in range(20):  # each handover to uvloop takes a turn or two of its own
            if len(Counting.made) == QUEUED:
                break
            loop.run_until_complete(asyncio.sleep(0))
        assert len(Counting.made) == QUEUED
        server.close()
        loop.run_until_complete(server.wait_closed())
        assert not server.is_serving()


def test_a_busy_port_fails_with_the_address_in_the_error() -> None:
    with socket.socket() as taken, running_loop() as loop:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1', {port}\\): address already in use"):
            loop.run_until_complete(loop.create_server(asyncio.Protocol, "127.0.0.1", port))


def test_a_given_socket_is_served_and_closed_with_the_server() -> None:
    """`serve --workers` hands each worker the supervisor's bound socket."""
    with running_loop() as loop:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = loop.run_until_complete(loop.create_server(Counting, sock=sock, backlog=16))
        with socket.create_connection(("127.0.0.1", port)):
            loop.run_until_complete(asyncio.sleep(0.05))
            assert len(Counting.made) == 1
        assert server.is_serving()
        server.close()
        assert sock.fileno() == -1
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
