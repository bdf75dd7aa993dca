#!/bin/sh
# Re-create the five recvscope sample captures. Loopback only (127.0.0.1, ::1).
# Needs root (tcpdump), python3, tcpdump >= 4.99.
# Usage: record.sh [OUTDIR]   (default: the captures/ directory above this script)
# Client output (recv sizes) goes to OUTDIR/logs/NAME.client.txt.
set -eu
TOOLS=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$TOOLS/..}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)

# record NAME PORT "TCPDUMP-OPTS" SERVER-ARGS -- CLIENT-ARGS
record() {
    name=$1 port=$2 tdopts=$3; shift 3
    pcap=$OUT/$name.pcap log=$OUT/logs/$name
    rm -f "$pcap"
    # shellcheck disable=SC2086
    tcpdump $tdopts -s 0 -U -w "$pcap" "tcp port $port" 2>"$log.tcpdump.txt" &
    td=$!
    i=0; until grep -q "listening on" "$log.tcpdump.txt"; do
        i=$((i+1)); [ $i -gt 100 ] && { echo "tcpdump did not start" >&2; exit 1; }; sleep 0.1; done
    sargs=""; while [ "$1" != "--" ]; do sargs="$sargs $1"; shift; done; shift
    # shellcheck disable=SC2086
    python3 "$TOOLS/server.py" $sargs $port >"$log.server.out" 2>"$log.server.txt" &
    sv=$!
    i=0; until grep -q READY "$log.server.out" 2>/dev/null; do
        i=$((i+1)); [ $i -gt 100 ] && { echo "server did not start" >&2; exit 1; }; sleep 0.1; done
    python3 "$TOOLS/client.py" "$@" >"$log.client.txt"
    wait $sv
    sleep 1
    kill -INT $td; wait $td || true
    rm -f "$log.server.out"
    echo "$name: $(wc -c <"$pcap") bytes"
}

NANO="--time-stamp-precision nano"
record book-nodelay      18080 "-i lo $NANO"          book       -- book 127.0.0.1 18080
record book-slow-reader  18081 "-i lo $NANO"          book       -- book 127.0.0.1 18081 --rcvbuf 4096 --sleep 0.25
record keepalive-chunked 18082 "-i lo"                keepalive  -- keepalive 127.0.0.1 18082
record ipv6-close-delimited 18083 "-i lo"             v6close    -- book ::1 18083
record sll2-any          18084 "-i any -y LINUX_SLL2" book-small -- book 127.0.0.1 18084
