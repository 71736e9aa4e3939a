"""The speech server's wire format: a JSON header and a byte body, each length-prefixed.

One request, one reply on a connection at a time; a synthesis reply is a run of `chunk`
messages ended by `done`. Both sides of the socket are our own processes on one host, so
the format is as small as it can be and carries no versioning.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_LENGTHS = struct.Struct(">II")
# Far above any real message (a 30 s segment at 16 kHz is 960 kB); a larger length means
# the stream is out of step, which the reader reports instead of allocating for it.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a message, or closed the socket mid-message."""


def send_message(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    sock.sendall(_LENGTHS.pack(len(encoded), len(body)) + encoded + body)


def receive_message(sock: socket.socket) -> tuple[dict[str, Any], bytes] | None:
    """The next message, or None when the peer closed the socket between messages."""
    lengths = _receive_exactly(sock, _LENGTHS.size, at_start=True)
    if lengths is None:
        return None
    header_length, body_length = _LENGTHS.unpack(lengths)
    if header_length > MAX_HEADER_BYTES or body_length > MAX_BODY_BYTES:
        raise ProtocolError(f"message of {header_length} + {body_length} bytes refused")
    raw_header = _receive_exactly(sock, header_length) or b""
    body = _receive_exactly(sock, body_length) or b""
    try:
        header = json.loads(raw_header)
    except ValueError as error:
        raise ProtocolError(f"header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    return header, body


def _receive_exactly(sock: socket.socket, size: int, *, at_start: bool = False) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        data = sock.recv(size - len(buffer))
        if not data:
            if at_start and not buffer:
                return None
            raise ProtocolError("connection closed mid-message")
        buffer += data
    return bytes(buffer)
