"""Protocol-level readiness probes for scripts/services (standard library only).

    probe.py http URL [--post BODY] [--header 'Name: value']... [--expect TEXT]
    probe.py kafka HOST PORT      a Metadata request answered with at least one broker
    probe.py amqp HOST PORT USER PASSWORD   an AMQP 0-9-1 connection opened and closed

Exit 0 when the service answers as expected, 1 otherwise (the reason on stderr).
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 2.0


def http(url: str, body: str | None, headers: list[str], expect: str | None) -> None:
    request = urllib.request.Request(url, data=None if body is None else body.encode())
    for header in headers:
        name, _, value = header.partition(":")
        request.add_header(name.strip(), value.strip())
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        text = response.read().decode("utf-8", "replace")
    if expect is not None and expect not in text:
        raise RuntimeError(f"{url} answered without {expect!r}")


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


def kafka(host: str, port: int) -> None:
    # Metadata v1 (api key 3): header = api_key, api_version, correlation_id, client_id; body =
    # topics array, -1 meaning none requested (v1+). The response starts with the broker array.
    client_id = b"scaffold-probe"
    request = struct.pack(">hhih", 3, 1, 7, len(client_id)) + client_id + struct.pack(">i", -1)
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _read_exactly(sock, 4))
        response = _read_exactly(sock, size)
    correlation_id, brokers = struct.unpack(">ii", response[:8])
    if correlation_id != 7 or brokers < 1:
        raise RuntimeError(f"metadata lists {brokers} brokers")


def _amqp_frame(method: tuple[int, int], arguments: bytes) -> bytes:
    payload = struct.pack(">HH", *method) + arguments
    return struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\xce"


def _amqp_method(sock: socket.socket) -> tuple[tuple[int, int], bytes]:
    frame_type, _channel, size = struct.unpack(">BHI", _read_exactly(sock, 7))
    payload = _read_exactly(sock, size + 1)[:-1]
    if frame_type != 1:
        raise RuntimeError(f"expected a method frame, got frame type {frame_type}")
    class_id, method_id = struct.unpack(">HH", payload[:4])
    return (class_id, method_id), payload[4:]


def _expect(got: tuple[int, int], wanted: tuple[int, int], name: str) -> None:
    if got != wanted:
        raise RuntimeError(f"expected {name}, got method {got[0]}.{got[1]}")


def _shortstr(text: str) -> bytes:
    return struct.pack(">B", len(text)) + text.encode()


def amqp(host: str, port: int, user: str, password: str) -> None:
    # The AMQP 0-9-1 handshake up to Connection.Open-Ok, then a clean Connection.Close, so the
    # broker logs no "client unexpectedly closed TCP connection" for each probe.
    credentials = f"\0{user}\0{password}".encode()
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        method, _ = _amqp_method(sock)
        _expect(method, (10, 10), "Connection.Start")
        start_ok = (
            struct.pack(">I", 0)  # client properties: an empty table
            + _shortstr("PLAIN")
            + struct.pack(">I", len(credentials))
            + credentials
            + _shortstr("en_US")
        )
        sock.sendall(_amqp_frame((10, 11), start_ok))
        method, tune = _amqp_method(sock)
        _expect(method, (10, 30), "Connection.Tune (are the credentials right?)")
        channel_max, frame_max, _heartbeat = struct.unpack(">HIH", tune[:8])
        sock.sendall(_amqp_frame((10, 31), struct.pack(">HIH", channel_max, frame_max, 0)))
        sock.sendall(_amqp_frame((10, 40), _shortstr("/") + _shortstr("") + b"\x00"))
        method, _ = _amqp_method(sock)
        _expect(method, (10, 41), "Connection.Open-Ok")
        sock.sendall(_amqp_frame((10, 50), struct.pack(">H", 200) + _shortstr("") + b"\0\0\0\0"))
        method, _ = _amqp_method(sock)
        _expect(method, (10, 51), "Connection.Close-Ok")


def main() -> int:
    parser = argparse.ArgumentParser(prog="probe.py")
    commands = parser.add_subparsers(dest="command", required=True)
    http_parser = commands.add_parser("http")
    http_parser.add_argument("url")
    http_parser.add_argument("--post")
    http_parser.add_argument("--header", action="append", default=[])
    http_parser.add_argument("--expect")
    kafka_parser = commands.add_parser("kafka")
    kafka_parser.add_argument("host")
    kafka_parser.add_argument("port", type=int)
    amqp_parser = commands.add_parser("amqp")
    amqp_parser.add_argument("host")
    amqp_parser.add_argument("port", type=int)
    amqp_parser.add_argument("user")
    amqp_parser.add_argument("password")
    args = parser.parse_args()
    try:
        if args.command == "http":
            http(args.url, args.post, args.header, args.expect)
        elif args.command == "kafka":
            kafka(args.host, args.port)
        else:
            amqp(args.host, args.port, args.user, args.password)
    except (OSError, RuntimeError, struct.error, urllib.error.URLError) as error:
        print(f"probe {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
