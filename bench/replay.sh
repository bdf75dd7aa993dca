#!/usr/bin/env bash
# Replay and live-capture benchmark: recvscope against tshark, tcptrace, tcpdump and a
# bare libpcap read loop, on captures this script makes itself on loopback.
#
# Needs (Debian): hyperfine tcpdump tshark tcptrace time gcc libpcap-dev curl
#   (plus util-linux's unshare and iproute2's ip, which Debian has by default),
#   and a release build: cargo build --release
# It installs nothing. It sends traffic only over loopback and over the loopback of a
# private network namespace; it never changes the host's loopback MTU.
#
# Steps: 1. captures (cached)  2. hyperfine per capture  3. table and targets
#        4. flag counts against tshark  5. two files in one replay  6. live fetch
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/replay.sh [--quick] [--data DIR] [--runs N] [--slow-runs N] [--live-runs N]
                       [--bin DIR] [--no-live] [--no-conformance]

  --quick           captures at 1/10 size (in DIR/quick), a fast check of the script
  --data DIR        where captures are cached and reused (default bench/data, gitignored)
  --runs N          hyperfine runs for recvscope, the libpcap loop and tcpdump (default 5)
  --slow-runs N     hyperfine runs for tshark and tcptrace (default 3; 1 for a long run)
  --live-runs N     live downloads with and without capture (default 3 each)
  --bin DIR         where recvscope and recvscope-conformance are (default target/release)
  --no-live         skip step 6 (it needs root or sudo)
  --no-conformance  skip step 4 (tshark over every capture)

Results (hyperfine JSON/markdown/CSV, peak-memory logs, fetch JSON) go to DIR/results/.
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"

quick=0
data=""
runs=5
slow_runs=3
live_runs=3
bin="$repo/target/release"
do_live=1
do_conformance=1
# tcpdump -B is in KiB: 64 MiB of kernel buffer.
capture_buffer_kib=65536
# Set on the last attempt at a capture that dropped frames: curl --limit-rate.
curl_rate=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
loud() {
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! %s\n' "$@" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
}
die() {
    printf 'bench/replay.sh: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------
# Processes this script starts (servers, tcpdump) are stopped on any exit.
pids=()
tmp=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $tmp ]]; then
        rm -rf "$tmp"
    fi
    if [[ -n ${shm_dir:-} ]]; then
        rm -rf "$shm_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts `recvscope serve --port 0` and sets server_pid and base (http://127.0.0.1:PORT).
start_server() {
    local out="$tmp/serve.$RANDOM.out" line="" i
    "$recvscope" serve --port 0 --quiet >"$out" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    for ((i = 0; i < 200; i++)); do
        line=$(head -n 1 "$out" 2>/dev/null || true)
        [[ $line == *cover3.jpg* ]] && break
        kill -0 "$server_pid" 2>/dev/null || die "recvscope serve exited: $(cat "$out")"
        sleep 0.05
    done
    [[ $line == serving\ http://* ]] || die "recvscope serve printed no URL: $line"
    line=${line#serving }
    line=${line%% *}
    base=${line%/cover3.jpg}
    port=${base##*:}
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Starts tcpdump on lo for the server port, writing FILE; sets tcpdump_pid/tcpdump_err.
start_tcpdump() {
    local file=$1 i
    tcpdump_err="$tmp/tcpdump.$RANDOM.err"
    # A raised priority keeps tcpdump reading when other processes share the CPUs;
    # loopback at 1 GB/s overflows even a 256 MiB buffer within a fraction of a second.
    $sudo nice -n -10 tcpdump -i lo -s 0 -B "$capture_buffer_kib" -w "$file" "tcp port $port" \
        2>"$tcpdump_err" &
    tcpdump_pid=$!
    pids+=("$tcpdump_pid")
    for ((i = 0; i < 200; i++)); do
        grep -q 'listening on' "$tcpdump_err" 2>/dev/null && return 0
        kill -0 "$tcpdump_pid" 2>/dev/null || die "tcpdump failed: $(cat "$tcpdump_err")"
        sleep 0.05
    done
    die "tcpdump did not start listening: $(cat "$tcpdump_err")"
}

# Stops tcpdump; sets cap_stats to "RECEIVED DROPPED" from its closing statistics.
stop_tcpdump() {
    sleep 0.3 # the last ACKs and FINs
    $sudo kill -INT "$tcpdump_pid" 2>/dev/null || true
    wait "$tcpdump_pid" 2>/dev/null || true
    local received dropped
    received=$(awk '/packets received by filter/ {print $1}' "$tcpdump_err")
    dropped=$(awk '/packets dropped by kernel/ {print $1}' "$tcpdump_err")
    cap_stats="${received:-?} ${dropped:-?}"
}

# (a) and (c): COUNT downloads of SIZE bytes, one connection each. Sets cap_stats.
capture_big() {
    local file=$1 size=$2 count=$3 i
    start_server
    start_tcpdump "$file"
    for ((i = 0; i < count; i++)); do
        curl -sS --fail ${curl_rate:+--limit-rate "$curl_rate"} -o /dev/null "$base/bytes/$size"
    done
    stop_tcpdump
    stop_pid "$server_pid"
}

# (b): N small transfers of 1000..60000 bytes (mean about 20.7 kB), in batches of 50
# URLs per curl: even batches over one keep-alive connection, odd ones with
# "Connection: close" (a fresh connection per transfer). Sets cap_stats.
capture_small() {
    local file=$1 n=$2 batch=50 b=0
    start_server
    # Park-Miller generator, so every machine asks for the same sizes.
    awk -v n="$n" 'BEGIN { x = 42; for (i = 0; i < n; i++) {
            x = (x * 16807) % 2147483647; u = x / 2147483647;
            printf "%d\n", 1000 + int(59000 * u * u) } }' >"$tmp/sizes"
    split -l "$batch" -d -a 4 "$tmp/sizes" "$tmp/batch."
    start_tcpdump "$file"
    local f args
    for f in "$tmp"/batch.*; do
        args=()
        while read -r s; do args+=("$base/bytes/$s"); done <"$f"
        if ((b % 2 == 0)); then
            curl -sS --fail "${args[@]}" >/dev/null
        else
            curl -sS --fail -H 'Connection: close' "${args[@]}" >/dev/null
        fi
        b=$((b + 1))
    done
    stop_tcpdump
    stop_pid "$server_pid"
    rm -f "$tmp"/batch.* "$tmp/sizes"
}

# Inside `unshare --net`: a private loopback at MTU 1500 without segmentation offload,
# then capture (c) there. The namespace and its loopback vanish when this process ends.
if [[ ${1:-} == __netns_capture ]]; then
    recvscope=$2
    file=$3
    size=$4
    count=$5
    capture_buffer_kib=$6
    curl_rate=${7:-}
    sudo=""
    tmp=$(mktemp -d)
    # Loopback hands TCP segments of up to 64 KB to the capture even at MTU 1500 (GSO):
    # one segment per skb makes the packets Ethernet-sized, as on a real link.
    ip link set lo up mtu 1500 gso_max_segs 1
    capture_big "$file" "$size" "$count"
    echo "$cap_stats"
    exit 0
fi

# ---------------------------------------------------------------------------------------
while (($#)); do
    case $1 in
    --quick) quick=1 ;;
    --data) data=${2:?--data needs a directory}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --slow-runs) slow_runs=${2:?}; shift ;;
    --live-runs) live_runs=${2:?}; shift ;;
    --bin) bin=${2:?}; shift ;;
    --no-live) do_live=0 ;;
    --no-conformance) do_conformance=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done

if ((quick)); then
    data=${data:-$repo/bench/data}/quick
    big_size=25M # 4 x 25 MiB
    small_n=2000
    live_size=100M
else
    data=${data:-$repo/bench/data}
    big_size=256M # 4 x 256 MiB
    small_n=20000
    live_size=1G
fi
big_count=4

recvscope="$bin/recvscope"
conformance="$bin/recvscope-conformance"
sudo=""
if ((EUID != 0)); then sudo="sudo"; fi

missing=()
for t in hyperfine tcpdump tshark tcptrace gcc curl unshare ip awk; do
    command -v "$t" >/dev/null || missing+=("$t")
done
[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
[[ -e /usr/include/pcap/pcap.h ]] || missing+=("pcap.h (package libpcap-dev)")
if ((${#missing[@]})); then
    die "missing: ${missing[*]}; on Debian: sudo apt-get install -y hyperfine tcpdump tshark tcptrace time gcc libpcap-dev curl"
fi
[[ -x $recvscope && -x $conformance ]] || die "no $recvscope or $conformance: run cargo build --release"

mkdir -p "$data"
data=$(cd "$data" && pwd)
# hyperfine -N splits its command lines at spaces.
[[ $data != *" "* && $bin != *" "* ]] || die "the --data and --bin paths must not contain spaces"
results="$data/results"
mkdir -p "$results"
tmp=$(mktemp -d "$data/.tmp.XXXXXX")
pcount="$data/pcount"
gcc -O2 -Wall -o "$pcount" "$here/pcount.c" -lpcap

log "recvscope $("$recvscope" --version 2>/dev/null || echo '?'), $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'no git')"
log "$(nproc) CPUs, $(uname -r), $(tshark --version 2>/dev/null | head -n 1), $(hyperfine --version)"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
log "data: $data; runs $runs, slow runs $slow_runs$( ((quick)) && echo ', QUICK mode (1/10 size)')"

# ---------------------------------------------------------------------------------------
# 1. Captures, made once and reused.
drop_warnings=()
# Captures are written to memory (/dev/shm) when it has room, so that tcpdump never
# waits for the disk, then moved into the cache.
shm_dir=""
if [[ -d /dev/shm ]] && (($(df -Pk /dev/shm | awk 'NR == 2 {print $4}') > 3 * 1024 * 1024)); then
    shm_dir=$(mktemp -d /dev/shm/recvscope-bench.XXXXXX)
    chmod 755 "$shm_dir"
fi
# make_capture NAME FILE DESCRIPTION: up to three attempts until tcpdump drops nothing,
# the last one with curl limited to 200 MB/s; a capture with drops is kept, loudly.
make_capture() {
    local name=$1 file=$2 what=$3 attempt received dropped part
    part="${shm_dir:-$data}/$(basename "$file").part"
    for attempt in 1 2 3; do
        curl_rate=""
        ((attempt == 3)) && curl_rate=200M
        log "capturing ($name), attempt $attempt: $what${curl_rate:+, curl --limit-rate $curl_rate}"
        case $name in
        a) capture_big "$part" "$big_size" "$big_count" ;;
        b) capture_small "$part" "$small_n" ;;
        c) cap_stats=$($sudo unshare --net -- bash "$self" __netns_capture "$recvscope" \
            "$part" "$big_size" "$big_count" "$capture_buffer_kib" "$curl_rate") ;;
        esac
        read -r received dropped <<<"$cap_stats"
        log "capture ($name): tcpdump received $received, dropped $dropped"
        [[ $dropped == 0 ]] && break
        loud "tcpdump DROPPED $dropped of $received packets while capturing ($name)." \
            "$( ((attempt < 3)) && echo "Capturing again." || echo "Keeping this capture: its flags show the capture's losses, not TCP's.")"
    done
    if [[ $dropped != 0 ]]; then
        drop_warnings+=("($name): tcpdump dropped $dropped of $received packets; delete $file and run again on a quieter machine")
    fi
    mv "$part" "$file"
}

# Bodies are extracted to memory too when it has room: the figure is recvscope's cost,
# not the disk's (the disk of a shared machine is the noisiest part of a run).
extract_dir="${shm_dir:-$tmp}/extract"

cap_a="$data/a-large-lo65536.pcap"
cap_b="$data/b-small-lo65536.pcap"
cap_c="$data/c-large-mtu1500.pcap"
[[ -s $cap_a ]] || make_capture a "$cap_a" "$big_count x $big_size downloads on lo"
[[ -s $cap_b ]] || make_capture b "$cap_b" "$small_n small transfers on lo, keep-alive and fresh connections"
[[ -s $cap_c ]] || make_capture c "$cap_c" \
    "$big_count x $big_size downloads in a private network namespace, lo MTU 1500"
# tcpdump hands its files to its own user (Debian runs it as "tcpdump"): take them back.
$sudo chown "$(id -u):$(id -g)" "$cap_a" "$cap_b" "$cap_c"

# ---------------------------------------------------------------------------------------
# 2. hyperfine, one capture at a time, every tool side by side.
# rows: capture tool mean stddev runs packets bytes rss_kb
rows="$results/rows.tsv"
: >"$rows"

# Peak RSS in KiB of one run of a command line (stdout to /dev/null).
peak_rss() {
    local tf="$tmp/time.out"
    if /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>"$tmp/time.err"; then
        awk -F': ' '/Maximum resident set size/ {print $2}' "$tf"
    else
        echo "?"
    fi
}

# bench_capture NAME FILE: runs hyperfine and records rows.
bench_capture() {
    local name=$1 file=$2 packets bytes
    read -r packets _ _ _ < <("$pcount" "$file")
    bytes=$(stat -c %s "$file")
    log "benchmarking ($name) $(basename "$file"): $packets packets, $bytes bytes"
    cat "$file" >/dev/null # page cache

    # tshark's HTTP body reassembly grows at least quadratically with the segments per
    # body: on 1 GB of 1500-byte segments it does not finish in 20 minutes. There it
    # runs with body reassembly off (less work for tshark; the TCP flags are the same).
    local tshark_args=(-r "$file" -q -z expert)
    if [[ $name == c ]]; then
        tshark_args=(-o http.desegment_body:FALSE "${tshark_args[@]}")
    fi
    local tshark_cmd="tshark ${tshark_args[*]}"

    local fast=(-n recvscope "$recvscope replay $file")
    local prep=(--prepare true)
    if [[ $name == b ]]; then
        fast+=(-n recvscope-extract "$recvscope replay --extract $extract_dir $file")
        prep+=(--prepare "rm -rf $extract_dir")
    fi
    fast+=(-n libpcap-loop "$pcount $file" -n tcpdump "tcpdump -r $file -w /dev/null")
    prep+=(--prepare true --prepare true)
    local slow=(-n tcptrace "tcptrace -l $file" -n tshark "$tshark_cmd")

    hyperfine -N --style basic --warmup 1 --runs "$runs" "${prep[@]}" "${fast[@]}" \
        --export-csv "$results/$name-fast.csv" --export-json "$results/$name-fast.json" \
        --export-markdown "$results/$name-fast.md" ||
        loud "hyperfine failed on ($name), fast tools"
    # The page cache is warm from the runs above; tshark's own warm-up would double a
    # run of minutes.
    hyperfine -N --style basic --runs "$slow_runs" "${slow[@]}" \
        --export-csv "$results/$name-slow.csv" --export-json "$results/$name-slow.json" \
        --export-markdown "$results/$name-slow.md" ||
        loud "hyperfine failed on ($name), tshark/tcptrace"
    rm -rf "$extract_dir"

    # Peak memory: one separate run each.
    local tool rss nruns csv
    for tool in recvscope recvscope-extract libpcap-loop tcpdump tcptrace tshark; do
        case $tool in
        recvscope) rss=$(peak_rss "$recvscope" replay "$file") ;;
        recvscope-extract)
            [[ $name == b ]] || continue
            rss=$(peak_rss "$recvscope" replay --extract "$extract_dir" "$file")
            rm -rf "$extract_dir"
            ;;
        libpcap-loop) rss=$(peak_rss "$pcount" "$file") ;;
        tcpdump) rss=$(peak_rss tcpdump -r "$file" -w /dev/null) ;;
        tcptrace) rss=$(peak_rss tcptrace -l "$file") ;;
        tshark) rss=$(peak_rss tshark "${tshark_args[@]}") ;;
        esac
        case $tool in tcptrace | tshark) csv="$results/$name-slow.csv" nruns=$slow_runs ;;
        *) csv="$results/$name-fast.csv" nruns=$runs ;; esac
        awk -F, -v tool="$tool" -v cap="$name" -v runs="$nruns" -v p="$packets" \
            -v b="$bytes" -v rss="$rss" -v OFS='\t' \
            '$1 == tool {print cap, tool, $2, $3, runs, p, b, rss}' "$csv" >>"$rows" 2>/dev/null || true
    done
}

bench_capture a "$cap_a"
bench_capture b "$cap_b"
bench_capture c "$cap_c"

# ---------------------------------------------------------------------------------------
# 3. The table and the targets.
report_table() {
    echo
    echo "== Replay: mean wall time, throughput, peak memory; ratio = recvscope time / tool time =="
    echo "(a) $big_count x $big_size on lo MTU 65536   (b) $small_n small transfers   (c) as (a) at MTU 1500"
    [[ $quick == 1 ]] && echo "QUICK mode: captures at 1/10 size"
    awk -F'\t' '
    { key = $1 SUBSEP $2; mean[key] = $3; sd[key] = $4; runs[key] = $5; pk[$1] = $6; by[$1] = $7
      rss[key] = $8; order[++n] = key }
    END {
      printf "%-3s %-18s %9s %8s %4s %12s %9s %10s %10s\n", "cap", "tool", "mean s", "+-sd", "runs",
             "packets/s", "MB/s", "peak MiB", "rs/tool"
      for (i = 1; i <= n; i++) {
        key = order[i]; split(key, k, SUBSEP); c = k[1]
        if (mean[key] + 0 <= 0) continue
        rs = mean[c SUBSEP "recvscope"]
        printf "%-3s %-18s %9.3f %8.3f %4d %12.0f %9.1f %10s %10s\n", c, k[2], mean[key], sd[key],
               runs[key], pk[c] / mean[key], by[c] / 1e6 / mean[key],
               (rss[key] == "?" ? "?" : sprintf("%.1f", rss[key] / 1024)),
               (rs == "" ? "-" : sprintf("%.3f", rs / mean[key]))
      }
      print ""
      print "== Targets (PASS/FAIL are reported, the script does not fail on them) =="
      for (c in pk) caps[c] = 1
      nc = asorti_compat(caps, cl)
      for (j = 1; j <= nc; j++) {
        c = cl[j]; rs = mean[c SUBSEP "recvscope"]
        if (rs == "") continue
        lp = mean[c SUBSEP "libpcap-loop"]; tt = mean[c SUBSEP "tcptrace"]; ts = mean[c SUBSEP "tshark"]
        if (lp != "") verdict(c, "replay <= 2x the bare libpcap loop", rs / lp, "x the loop", rs / lp <= 2)
        if (tt != "") verdict(c, ">= 2x faster than tcptrace -l", tt / rs, "x faster", tt / rs >= 2)
        if (ts != "") verdict(c, ">= 50x faster than tshark -z expert", ts / rs, "x faster", ts / rs >= 50)
        m = rss[c SUBSEP "recvscope"]
        if (c != "b" && m != "" && m != "?")
          verdict(c, "peak memory <= 64 MiB on the 1 GB capture", m / 1024, "MiB", m / 1024 <= 64)
      }
    }
    function verdict(c, what, v, unit, ok) {
      printf "(%s) %-44s %9.2f %-11s %s\n", c, what, v, unit, (ok ? "PASS" : "FAIL")
    }
    function asorti_compat(src, dst,    x, m, i, j, t) {
      m = 0; for (x in src) dst[++m] = x
      for (i = 2; i <= m; i++) for (j = i; j > 1 && dst[j - 1] > dst[j]; j--) {
        t = dst[j]; dst[j] = dst[j - 1]; dst[j - 1] = t }
      return m
    }' "$rows"
    if [[ -n $(grep -P '^c\ttshark' "$rows" || true) ]]; then
        echo "(c) tshark ran with -o http.desegment_body:FALSE: with HTTP body reassembly on it"
        echo "    does not finish on 1 GB of 1500-byte segments (quadratic reassembly)."
    fi
}
report_table | tee "$results/table.txt"

# ---------------------------------------------------------------------------------------
# 4. Flag counts against tshark, on every capture of the directory.
if ((do_conformance)); then
    echo
    echo "== Flag counts: recvscope-conformance $data =="
    # Same reason as above: tshark without HTTP body reassembly (flags are unchanged).
    wrapper="$tmp/tshark-no-body-reassembly"
    printf '#!/bin/sh\nexec tshark -o http.desegment_body:FALSE "$@"\n' >"$wrapper"
    chmod +x "$wrapper"
    conf_rc=0
    "$conformance" "$data" --tshark "$wrapper" | tee "$results/conformance.txt" || conf_rc=$?
    if ((conf_rc != 0)); then
        loud "recvscope-conformance found differences from tshark (exit $conf_rc): see above"
    else
        echo "flag counts: all equal to tshark's"
    fi
fi

# ---------------------------------------------------------------------------------------
# 5. Two files in one replay: side by side on the cores (the default) against one after
#    the other on one thread (--jobs 1). The two single runs are shown too; each already
#    uses a second core to read ahead, so on two cores their sum cannot be halved.
echo
echo "== Two files in one replay: recvscope replay (a) (c) =="
hyperfine -N --style basic --warmup 1 --runs "$runs" \
    -n single-a "$recvscope replay $cap_a" -n single-c "$recvscope replay $cap_c" \
    -n sequential "$recvscope replay --jobs 1 $cap_a $cap_c" \
    -n both "$recvscope replay $cap_a $cap_c" \
    --export-csv "$results/parallel.csv" --export-json "$results/parallel.json" \
    --export-markdown "$results/parallel.md" >"$results/parallel.log" 2>&1 ||
    loud "hyperfine failed on the two-file replay: see $results/parallel.log"
awk -F, '$1 == "single-a" {a = $2} $1 == "single-c" {c = $2} $1 == "sequential" {s = $2}
    $1 == "both" {b = $2}
    END { if (a == "" || b == "" || c == "" || s == "") { print "no result"; exit }
      printf "a and c one after the other on one thread (--jobs 1) %.3f s; side by side %.3f s = %.2f x (target <= 0.60: %s)\n",
             s, b, b / s, (b / s <= 0.6 ? "PASS" : "FAIL")
      printf "single runs (each reading ahead on a second core): a %.3f s + c %.3f s = %.3f s; side by side = %.2f x their sum\n",
             a, c, a + c, b / (a + c) }' \
    "$results/parallel.csv" | tee "$results/parallel.txt"

# ---------------------------------------------------------------------------------------
# 6. Live: fetch with and without the capture thread.
# FILE: prints "packets dropped body_bytes transfer_ns", transfer_ns being the end of the
# last recv() after the request was sent (the download without start-up and report).
json_get() {
    if command -v python3 >/dev/null; then
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); c = d.get("capture") or {}; r = d.get("recvs") or []
end = max((x["t_ns"] + x["wait_ns"] for x in r), default=0)
print(c.get("packets", "-"), c.get("dropped", "-"), d.get("body_bytes", 0), end)' "$1"
    elif command -v jq >/dev/null; then
        jq -r '"\(.capture.packets // "-") \(.capture.dropped // "-") \(.body_bytes // 0) \([.recvs[] | .t_ns + .wait_ns] | max // 0)"' "$1"
    else
        echo "- - 0 0"
    fi
}

if ((do_live)); then
    echo
    echo "== Live: recvscope fetch $live_size from a loopback server, with and without capture =="
    start_server
    live_rows="$results/live.tsv"
    : >"$live_rows"
    for ((i = 1; i <= live_runs; i++)); do
        for mode in capture no-capture; do
            extra=()
            [[ $mode == no-capture ]] && extra=(--no-capture)
            out="$tmp/live.json"
            t0=$(date +%s%N)
            rc=0
            $sudo "$recvscope" fetch "$base/bytes/$live_size" --no-save -o "$tmp/live.body" \
                --force --json "${extra[@]}" >"$out" 2>"$results/live-$mode-$i.err" || rc=$?
            t1=$(date +%s%N)
            rm -f "$tmp/live.body"
            read -r packets dropped body transfer < <(json_get "$out" 2>/dev/null || echo "- - 0 0")
            # The fetch JSON holds one object per recv (tens of MB for 1 GiB): keep the
            # first of each mode without its recvs.
            if ((i == 1)) && command -v python3 >/dev/null; then
                python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); n = len(d.get("recvs") or []); d["recvs"] = "(%d recvs left out)" % n
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$out" "$results/live-$mode-1.json" 2>/dev/null || true
            fi
            rm -f "$out"
            printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$i" "$(((t1 - t0) / 1000))" \
                "$body" "$packets" "$dropped" "$rc" "$((transfer / 1000))" >>"$live_rows"
        done
    done
    stop_pid "$server_pid"
    awk -F'\t' '
    { wall = $3 / 1e6; xfer = $8 / 1e6; mbs = ($4 > 0 && xfer > 0 ? $4 / 1e6 / xfer : 0)
      printf "%-10s run %d: %7.2f s wall, download %7.2f s = %8.1f MB/s, packets %s, dropped %s%s\n",
             $1, $2, wall, xfer, mbs, $5, $6, ($7 != 0 ? ", EXIT " $7 : "")
      speed[$1, ++n[$1]] = mbs; walls[$1, n[$1]] = wall }
    END {
      for (m in n) { k = n[m]; for (i = 2; i <= k; i++) for (j = i; j > 1 && speed[m, j - 1] > speed[m, j]; j--) {
          t = speed[m, j]; speed[m, j] = speed[m, j - 1]; speed[m, j - 1] = t }
        for (i = 2; i <= k; i++) for (j = i; j > 1 && walls[m, j - 1] > walls[m, j]; j--) {
          t = walls[m, j]; walls[m, j] = walls[m, j - 1]; walls[m, j - 1] = t }
        med[m] = speed[m, int((k + 1) / 2)]; medw[m] = walls[m, int((k + 1) / 2)] }
      if (med["no-capture"] > 0)
        printf "median download speed: %.1f MB/s with capture, %.1f MB/s without: %.2f (target >= 0.80: %s)\n" \
               "median wall time (start-up, download, report): %.2f s with capture, %.2f s without\n",
               med["capture"], med["no-capture"], med["capture"] / med["no-capture"],
               (med["capture"] / med["no-capture"] >= 0.8 ? "PASS" : "FAIL"), medw["capture"], medw["no-capture"]
    }' "$live_rows" | tee "$results/live.txt"
    if awk -F'\t' '$1 == "capture" && $6 != "0" {bad = 1} END {exit !bad}' "$live_rows"; then
        loud "the live capture dropped frames (see the 'dropped' column above)"
    fi
fi

if ((${#drop_warnings[@]})); then
    loud "captures made with tcpdump drops:" "${drop_warnings[@]}"
fi
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
log "done; results in $results"
