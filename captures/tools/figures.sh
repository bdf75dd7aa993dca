#!/bin/sh
# Print tshark's figures for the sample captures.
# Usage: figures.sh [DIR]   (default: captures/ above this script)
# Writes DIR/expected-flags.tsv (file, flag, count) and prints a summary.
set -eu
DIR=${1:-$(cd "$(dirname "$0")/.." && pwd)}
FILES="book-nodelay book-slow-reader keepalive-chunked ipv6-close-delimited sll2-any"
FLAGS="zero_window zero_window_probe zero_window_probe_ack window_full window_update keep_alive keep_alive_ack retransmission fast_retransmission spurious_retransmission out_of_order lost_segment duplicate_ack ack_lost_segment"
TSV=$DIR/expected-flags.tsv
printf 'file\tflag\tcount\n' >"$TSV"
for f in $FILES; do
    p=$DIR/$f.pcap
    echo "== $f.pcap  $(wc -c <"$p") bytes"
    capinfos -c -E -T -t "$p" 2>/dev/null | tail -n +2 | sed 's/^/   /' || true
    for fl in $FLAGS; do
        n=$(tshark -r "$p" -Y "tcp.analysis.$fl" 2>/dev/null | wc -l)
        printf '%s.pcap\t%s\t%s\n' "$f" "$fl" "$n" >>"$TSV"
        printf '   %-24s %s\n' "$fl" "$n"
    done
done
