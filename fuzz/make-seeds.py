#!/usr/bin/env python3
"""Writes fuzz/seeds/TARGET/ from the project's captures (see README, "Fuzzing")."""

import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
# Index of each link type in recvscope_fuzz::LINKS.
LINK_INDEX = {1: 0, 276: 7}
LINK_HEADER = {1: 14, 276: 20}
MAX_SEED = 16 * 1024


def frames(path):
    """(link type, ts_ns, frame bytes) of a classic little-endian pcap."""
    data = path.read_bytes()
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", data)
    scale = 1 if magic == 0xA1B23C4D else 1000
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, off)
        yield link, sec * 1_000_000_000 + frac * scale, data[off + 16 : off + 16 + incl]
        off += 16 + incl


def tcp_segment(ip):
    """(source port, destination port, flags, payload) of a raw IPv4/IPv6 TCP packet."""
    if ip[0] >> 4 == 4:
        hlen, total = (ip[0] & 15) * 4, struct.unpack_from(">H", ip, 2)[0]
        tcp = ip[hlen:total]
    else:
        tcp = ip[40 : 40 + struct.unpack_from(">H", ip, 4)[0]]
    sport, dport = struct.unpack_from(">HH", tcp)
    return sport, dport, tcp[13], tcp[(tcp[12] >> 4) * 4 :]


def record(tag, body):
    return bytes([tag]) + struct.pack("<H", len(body)) + body


def save(target, data):
    out = SEEDS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)


def chunks(records, limit=MAX_SEED):
    """Groups records into seeds of at most `limit` bytes."""
    seed = b""
    for r in records:
        if seed and len(seed) + len(r) > limit:
            yield seed
            seed = b""
        seed += r
    if seed:
        yield seed


def main():
    captures = sorted((ROOT / "captures").glob("*.pcap"))
    for cap in captures:
        save("capture_file", cap.read_bytes())
        listed = list(frames(cap))
        tracker, http, server_port = [], [], None
        prev_ts = listed[0][1]
        for n, (link, ts, frame) in enumerate(listed):
            if n < 24 or n % 20 == 0:
                save("decode", bytes([LINK_INDEX[link], 0]) + frame)
            ip = frame[LINK_HEADER[link] :]
            dt = min((ts - prev_ts) // 100_000, 127)
            prev_ts = ts
            tracker.append(record(2 * dt, ip))
            sport, dport, flags, payload = tcp_segment(ip)
            if flags & 0x12 == 0x02:
                server_port = dport
            if payload:
                http.append(record(4 if sport == server_port else 0, payload))
        for seed in list(chunks(tracker))[:3]:
            save("tracker", seed)
        for seed in list(chunks(http))[:2]:
            save("http", b"\0\0\0" + seed)
    pcapng = subprocess.run(
        ["tshark", "-F", "pcapng", "-r", str(ROOT / "captures/keepalive-chunked.pcap"), "-w", "-"],
        capture_output=True,
        check=True,
    ).stdout
    save("capture_file", pcapng)
    for log in sorted((ROOT / "captures").glob("*.recv.jsonl")):
        save("recvlog", log.read_bytes())
        save("recvlog", log.read_bytes()[:900])
    for head in [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /image.jpg HTTP/1.0\r\n\r\n",
        b"\r\nHEAD /a?b=c HTTP/1.1\nConnection: close\n\n",
        b"GET http://127.0.0.1:8080/x.jpg HTTP/1.0\r\nRange: bytes=0-9\r\n\r\n",
    ]:
        save("serve_request", head)
    print(json.dumps({t.name: len(list(t.iterdir())) for t in sorted(SEEDS.iterdir())}))


if __name__ == "__main__":
    sys.exit(main())
