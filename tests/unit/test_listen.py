"""The listening socket every worker accepts on: accepted connections send
small writes at once (TCP_NODELAY), whatever server runs on it. Without it,
hypercorn's separate header and body writes waited for delayed ACKs."""

from __future__ import annotations

import socket

from app.server import listen


def nodelay(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_accepted_connections_have_nodelay():
    server = listen("127.0.0.1", 0)
    try:
        assert nodelay(server)
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        try:
            assert nodelay(accepted)
        finally:
            accepted.close()
            client.close()
    finally:
        server.close()
