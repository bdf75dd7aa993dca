#!/usr/bin/env python3
"""Tiny deterministic HTTP server for recording recvscope sample captures.

Loopback only: it binds 127.0.0.1 or ::1 and refuses anything else.
It serves a fixed number of connections for the chosen scenario, then exits.

Usage: server.py SCENARIO PORT
  SCENARIO  book      - HTTP/1.1 200 + Content-Length, Connection: close,
                        header+body in one sendall (70057-byte body)
            book-small- same, 10240-byte body (for the SLL2 capture)
            keepalive - HTTP/1.1 persistent connection: Content-Length,
                        chunked (extensions + trailer), 304; then a second
                        connection answering HEAD
            v6close   - on ::1: HTTP/1.0 200 without Content-Length,
                        20000-byte body delimited by close
Prints "READY" on stdout once listening.
"""
import hashlib
import socket
import sys

LOOPBACK = {"127.0.0.1", "::1"}
DATE = "Thu, 01 Jan 2015 00:00:00 GMT"   # fixed, so responses are deterministic
LASTMOD = "Mon, 05 Jan 2009 17:21:30 GMT"


def pseudo_jpeg(n):
    """n bytes shaped like a minimal baseline JPEG, so Wireshark's JFIF
    dissector accepts it: SOI, APP0 "JFIF", SOS, then SHA-256 counter-mode
    pseudo-random bytes with 0xFF replaced by 0xFE (no stray markers), EOI."""
    out = bytearray(b"\xff\xd8"                                   # SOI
                    b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # APP0
                    b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00")  # SOS, 1 component
    i = 0
    while len(out) < n - 2:
        out += hashlib.sha256(b"recvscope-cover-%d" % i).digest().replace(b"\xff", b"\xfe")
        i += 1
    del out[n - 2:]
    out += b"\xff\xd9"                                            # EOI
    assert len(out) == n
    return bytes(out)


def listen(host, port):
    assert host in LOOPBACK, host
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4)
    print("READY", flush=True)
    return s


def finish(conn):
    """Half-close, drain until the client closes, then close (no RST)."""
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass
    conn.close()


def read_request(conn, buf):
    """Return (request_bytes, rest) — header ends at CRLFCRLF or LFLF."""
    while True:
        ends = [(i, 4) for i in [buf.find(b"\r\n\r\n")] if i >= 0] + \
               [(i, 2) for i in [buf.find(b"\n\n")] if i >= 0]
        if ends:
            i, k = min(ends)
            return buf[:i + k], buf[i + k:]
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data


def book(port, body_len):
    body = pseudo_jpeg(body_len)
    s = listen("127.0.0.1", port)
    conn, _ = s.accept()
    req, _ = read_request(conn, b"")
    sys.stderr.write("request: %r\n" % req)
    head = ("HTTP/1.1 200 OK\r\n"
            "Date: %s\r\n"
            "Server: recvscope-sample/1.0\r\n"
            "Last-Modified: %s\r\n"
            "ETag: \"b294001-11229-cover\"\r\n"
            "Accept-Ranges: bytes\r\n"
            "Content-Length: %d\r\n"
            "Connection: close\r\n"
            "Content-Type: image/jpeg\r\n"
            "\r\n" % (DATE, LASTMOD, len(body))).encode()
    conn.sendall(head + body)          # whole response in one sendall
    finish(conn)
    s.close()


def keepalive(port):
    s = listen("127.0.0.1", port)
    # ---- connection 1: three requests, persistent ----
    conn, _ = s.accept()
    buf = b""
    text = b"".join(b"line %04d of the plain text resource\n" % i for i in range(30))
    for n in range(3):
        req, buf = read_request(conn, buf)
        if req is None:
            break
        sys.stderr.write("conn1 request %d: %r\n" % (n + 1, req))
        path = req.split(b" ")[1]
        if path == b"/index.txt":
            conn.sendall(("HTTP/1.1 200 OK\r\n"
                          "Date: %s\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %d\r\n"
                          "\r\n" % (DATE, len(text))).encode() + text)
        elif path == b"/chunked":
            chunks = [b"A" * 0x400, b"B" * 0x1a2, b"C" * 0x7d0]
            conn.sendall(("HTTP/1.1 200 OK\r\n"
                          "Date: %s\r\n"
                          "Content-Type: application/octet-stream\r\n"
                          "Transfer-Encoding: chunked\r\n"
                          "Trailer: X-Checksum\r\n"
                          "\r\n" % DATE).encode())
            conn.sendall(b"400\r\n" + chunks[0] + b"\r\n")
            conn.sendall(b"1A2;name=value;flag\r\n" + chunks[1] + b"\r\n")   # chunk extensions
            conn.sendall(b"7d0\r\n" + chunks[2] + b"\r\n")
            conn.sendall(b"0\r\nX-Checksum: sha256=" +
                         hashlib.sha256(b"".join(chunks)).hexdigest()[:16].encode() +
                         b"\r\n\r\n")                                       # trailer
        else:  # /cover.jpg with If-None-Match -> 304, no body
            conn.sendall(("HTTP/1.1 304 Not Modified\r\n"
                          "Date: %s\r\n"
                          "ETag: \"b294001-11229-cover\"\r\n"
                          "\r\n" % DATE).encode())
    # client closes first; then we close
    while conn.recv(65536):
        pass
    conn.close()
    # ---- connection 2: HEAD ----
    conn, _ = s.accept()
    req, _ = read_request(conn, b"")
    sys.stderr.write("conn2 request: %r\n" % req)
    conn.sendall(("HTTP/1.1 200 OK\r\n"
                  "Date: %s\r\n"
                  "Content-Type: image/jpeg\r\n"
                  "Content-Length: 70057\r\n"
                  "Connection: close\r\n"
                  "\r\n" % DATE).encode())
    finish(conn)
    s.close()


def v6close(port):
    body = pseudo_jpeg(20000)
    s = listen("::1", port)
    conn, _ = s.accept()
    req, _ = read_request(conn, b"")
    sys.stderr.write("request: %r\n" % req)
    conn.sendall(("HTTP/1.0 200 OK\r\n"
                  "Date: %s\r\n"
                  "Server: recvscope-sample/1.0\r\n"
                  "Content-Type: image/jpeg\r\n"
                  "\r\n" % DATE).encode() + body)   # no Content-Length
    finish(conn)
    s.close()


def main():
    scen, port = sys.argv[1], int(sys.argv[2])
    if scen == "book":
        book(port, 70057)
    elif scen == "book-small":
        book(port, 10240)
    elif scen == "keepalive":
        keepalive(port)
    elif scen == "v6close":
        v6close(port)
    else:
        sys.exit("unknown scenario " + scen)


if __name__ == "__main__":
    main()
