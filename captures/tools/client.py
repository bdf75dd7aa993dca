#!/usr/bin/env python3
"""Clients for recording recvscope sample captures (loopback only).

  client.py book HOST PORT [--sleep S] [--rcvbuf N]
      The Python for Informatics ch.12 program: one HTTP/1.0 absolute-form
      request ending in CRLF CRLF, recv(5120) until 0 bytes, optional
      time.sleep(S) before each recv, prints "len total" per recv, then
      "Header Length N" (offset of the first CRLFCRLF) and the header.
      --rcvbuf sets SO_RCVBUF before connect (Linux doubles it).
  client.py keepalive HOST PORT
      HTTP/1.1 keep-alive scenario (see README).
"""
import socket
import sys
import time

LOOPBACK = {"127.0.0.1", "::1"}


def connect(host, port, rcvbuf=None):
    assert host in LOOPBACK, "loopback only: " + host
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        print("SO_RCVBUF requested %d effective %d" %
              (rcvbuf, s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)))
    s.connect((host, port))
    return s


def book(host, port, sleep=None, rcvbuf=None):
    mysock = connect(host, port, rcvbuf)
    hostport = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
    req = "GET http://%s/cover.jpg HTTP/1.0\r\n\r\n" % hostport
    mysock.sendall(req.encode())
    count = 0
    picture = b""
    while True:
        if sleep:
            time.sleep(sleep)
        data = mysock.recv(5120)
        if len(data) < 1:
            break
        count = count + len(data)
        print(len(data), count)
        picture = picture + data
    mysock.close()
    pos = picture.find(b"\r\n\r\n")
    print("Header Length", pos)
    print(picture[:pos].decode())
    body = picture[pos + 4:]
    print("Body bytes", len(body))


def read_until(s, buf, marker):
    while marker not in buf:
        d = s.recv(5120)
        if not d:
            raise EOFError
        print("recv", len(d))
        buf += d
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def read_n(s, buf, n):
    while len(buf) < n:
        d = s.recv(5120)
        if not d:
            raise EOFError
        print("recv", len(d))
        buf += d
    return buf[:n], buf[n:]


def keepalive(host, port):
    hp = "%s:%d" % (host, port)
    s = connect(host, port)
    # request 1: book-style bare LF line endings
    s.sendall(("GET /index.txt HTTP/1.1\nHost: %s\n\n" % hp).encode())
    buf = b""
    head, buf = read_until(s, buf, b"\r\n\r\n")
    cl = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    body, buf = read_n(s, buf, cl)
    print("response 1:", head.split(b"\r\n")[0].decode(), "body", len(body))
    # requests 2 and 3 pipelined in one write
    s.sendall(("GET /chunked HTTP/1.1\r\nHost: %s\r\n\r\n"
               "GET /cover.jpg HTTP/1.1\r\nHost: %s\r\n"
               "If-None-Match: \"b294001-11229-cover\"\r\n\r\n" % (hp, hp)).encode())
    head, buf = read_until(s, buf, b"\r\n\r\n")
    total = 0
    while True:
        line, buf = read_until(s, buf, b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            break
        data, buf = read_n(s, buf, size + 2)
        total += size
    trailer, buf = read_until(s, buf, b"\r\n\r\n") if not buf.startswith(b"\r\n") else (b"", buf[2:])
    print("response 2:", head.split(b"\r\n")[0].decode(), "chunked body", total, "trailer", trailer)
    head, buf = read_until(s, buf, b"\r\n\r\n")
    print("response 3:", head.split(b"\r\n")[0].decode(), "leftover", len(buf))
    time.sleep(0.1)
    s.close()
    time.sleep(0.1)
    # second connection: HEAD
    s = connect(host, port)
    s.sendall(("HEAD /cover.jpg HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % hp).encode())
    buf = b""
    while True:
        d = s.recv(5120)
        if not d:
            break
        print("recv", len(d))
        buf += d
    s.close()
    print("response 4:", buf.split(b"\r\n")[0].decode(), "total", len(buf),
          "header length", buf.find(b"\r\n\r\n"))


def main():
    a = sys.argv[1:]
    mode, host, port = a[0], a[1], int(a[2])
    sleep = float(a[a.index("--sleep") + 1]) if "--sleep" in a else None
    rcvbuf = int(a[a.index("--rcvbuf") + 1]) if "--rcvbuf" in a else None
    if mode == "book":
        book(host, port, sleep, rcvbuf)
    elif mode == "keepalive":
        keepalive(host, port)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
