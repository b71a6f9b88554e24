#!/usr/bin/env bash
# compare.sh: measure `protospec bench` side by side with the standard load
# tools on the same targets, in one go, on loopback only:
#
#   protospec bench http1  vs  wrk and h2load --h1  against nginx (2 workers) and the reference (protospec serve http1)
#   protospec bench dns    vs  dnsperf  against nsd, knot, unbound (a cache in front of nsd) and the reference (protospec serve dns)
#   protospec pcap ls      vs  tcpdump -r F -w /dev/null  on one synthetic capture
#
# Runs alternate between the tools (ROUNDS rounds, each RUN_SECS long) and the
# medians are compared. It prints every ratio with its goal and whether the
# run meets it:
#   protospec/wrk and protospec/h2load on nginx, protospec/dnsperf on nsd and
#   on unbound                            (>= 1.0: the engine keeps up)
#   reference/nginx throughput (wrk, h2load), reference/nsd (dnsperf)  (>= 1.0)
#   reference/nginx CPU per request, reference/nsd and reference/knot CPU per
#   query                                 (<= 1.0: the references cost no more)
#   protospec pcap ls speed / tcpdump's   (>= 1.0)
# CPU is the server's user+system time over a measured run (its processes
# and their descendants, from /proc) divided by the answers it gave.
# h2load (Debian nghttp2-client), unbound and knot are used when installed.
#
# Usage: scripts/compare.sh            # needs nginx, nsd, wrk, dnsperf, go (bc, tcpdump for pcap)
# Env:   ROUNDS=5 RUN_SECS=5 CONNS=32 HTTP_PATH=/data/1k.bin DNS_CLIENTS=4 DNS_OUTSTANDING=100
#        PCAP_FLOWS=20000 PROTOSPEC=path/to/protospec (default: built from this tree)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}
RUN_SECS=${RUN_SECS:-5}
CONNS=${CONNS:-32}
HTTP_PATH=${HTTP_PATH:-/data/1k.bin}
DNS_CLIENTS=${DNS_CLIENTS:-4}
DNS_OUTSTANDING=${DNS_OUTSTANDING:-100}
DNS_PIPE=$(( (DNS_OUTSTANDING + DNS_CLIENTS - 1) / DNS_CLIENTS ))

for t in nginx nsd wrk dnsperf jq python3; do
	command -v "$t" >/dev/null || { echo "compare.sh: $t is not installed" >&2; exit 2; }
done

T=$(mktemp -d /tmp/protospec-compare.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

PS=${PROTOSPEC:-}
if [ -z "$PS" ]; then
	(cd "$ROOT" && go build -o "$T/protospec" ./cmd/protospec)
	PS=$T/protospec
fi

free_port() { python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",p)); print(p)'; }

wait_tcp() { # port
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "compare.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# descendants PID: PID and every process below it (nginx's workers; nsd's
# xfrd, main and server processes).
descendants() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}

# cpu_ticks PID: user+system clock ticks of PID and of its running
# descendants, from /proc.
cpu_ticks() {
	local sum=0 p
	for p in $(descendants "$1"); do
		[ -r "/proc/$p/stat" ] || continue
		# After the command name, utime is the 12th field and stime the 13th.
		sum=$((sum + $(sed -E 's/^.*\) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$sum"
}
HZ=$(getconf CLK_TCK)

# ---- nginx (two workers: the reference's goal is stated against them)
NGX_PORT=$(free_port)
D=$T/nginx
mkdir -p "$D/tmp" "$D/html"
"$PS" fixtures http1 --out "$D/html" >/dev/null
cat >"$D/nginx.conf" <<EOF
daemon off;
worker_processes 2;
user root;
pid $D/nginx.pid;
error_log $D/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $D/tmp/body; proxy_temp_path $D/tmp/proxy; fastcgi_temp_path $D/tmp/fastcgi;
  uwsgi_temp_path $D/tmp/uwsgi; scgi_temp_path $D/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGX_PORT;
    root $D/html;
  }
}
EOF
nginx -p "$D" -c "$D/nginx.conf" -e "$D/error.log" &
NGX_PID=$!
PIDS+=($NGX_PID)
wait_tcp "$NGX_PORT"

# ---- nsd (one server process, response rate limiting off)
NSD_PORT=$(free_port)
D=$T/nsd
mkdir -p "$D"
cp "$ROOT/internal/dns/zones/test.zone" "$D/test.zone"
cat >"$D/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  port: $NSD_PORT
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$D"
  database: ""
  zonelistfile: "$D/zone.list"
  xfrdfile: "$D/xfrd.state"
  xfrdir: "$D"
  pidfile: "$D/nsd.pid"
  logfile: "$D/nsd.log"
  server-count: 1
  verbosity: 0
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "test."
  zonefile: "test.zone"
EOF
nsd -d -c "$D/nsd.conf" &
NSD_PID=$!
PIDS+=($NSD_PID)
wait_tcp "$NSD_PORT"

# ---- knot (one UDP worker), for the CPU each answer costs
HAVE_KNOT=no
if command -v knotd >/dev/null; then
	HAVE_KNOT=yes
	KNOT_PORT=$(free_port)
	D=$T/knot
	mkdir -p "$D/db"
	cp "$ROOT/internal/dns/zones/test.zone" "$D/test.zone"
	KNOT_USER=
	[ "$(id -u)" = 0 ] && KNOT_USER='    user: root:root'
	cat >"$D/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: "$D"
    pidfile: "$D/knot.pid"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
$KNOT_USER
database:
    storage: "$D/db"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "$D"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: "test."
    file: "test.zone"
EOF
	knotd -c "$D/knot.conf" 2>"$D/knot.log" &
	KNOT_PID=$!
	PIDS+=($KNOT_PID)
	wait_tcp "$KNOT_PORT"
fi

# ---- unbound (one thread), a cache in front of nsd: it forwards to nsd only
HAVE_UNBOUND=no
if command -v unbound >/dev/null; then
	HAVE_UNBOUND=yes
	UB_PORT=$(free_port)
	D=$T/unbound
	mkdir -p "$D"
	cat >"$D/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@$UB_PORT
  port: $UB_PORT
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$D"
  pidfile: "$D/unbound.pid"
  use-syslog: no
  logfile: "$D/unbound.log"
  verbosity: 0
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  outgoing-interface: 127.0.0.1
  do-not-query-localhost: no
  local-zone: "test." nodefault
remote-control:
  control-enable: no
forward-zone:
  name: "test."
  forward-addr: 127.0.0.1@$NSD_PORT
EOF
	unbound -d -c "$D/unbound.conf" &
	PIDS+=($!)
	wait_tcp "$UB_PORT"
fi
HAVE_H2LOAD=no
command -v h2load >/dev/null && HAVE_H2LOAD=yes

# ---- the references
REF_HTTP_PORT=$(free_port)
"$PS" serve http1 -q --addr "127.0.0.1:$REF_HTTP_PORT" 2>"$T/ref-http1.log" &
REF_HTTP_PID=$!
PIDS+=($REF_HTTP_PID)
wait_tcp "$REF_HTTP_PORT"
REF_DNS_PORT=$(free_port)
REF_DNS=yes
"$PS" serve dns -q --addr "127.0.0.1:$REF_DNS_PORT" 2>"$T/ref-dns.log" &
REF_DNS_PID=$!
PIDS+=($REF_DNS_PID)
sleep 0.5
if ! kill -0 "$REF_DNS_PID" 2>/dev/null; then
	REF_DNS=no
	echo "note: 'protospec serve dns' is not available: $(tail -1 "$T/ref-dns.log")" >&2
fi

QUERIES=$T/queries.txt
printf '%s\n' 'www.test A' 'www.test AAAA' 'mail.test A' 'test MX' 'txt.test TXT' 'alias.test A' 'ns1.test A' 'test NS' >"$QUERIES"
for q in "www.test A" "test MX"; do
	dig +short +time=2 +tries=1 -p "$NSD_PORT" @127.0.0.1 $q >/dev/null
done
if [ $HAVE_UNBOUND = yes ]; then
	# Fill unbound's cache, so that every run measures cached answers.
	while read -r name type; do
		dig +short +time=2 +tries=1 -p "$UB_PORT" @127.0.0.1 "$name" "$type" >/dev/null || true
	done <"$QUERIES"
fi

# ---- one measurement each; every function prints requests (queries) per second
wrk_run() { # port
	wrk -t2 -c"$CONNS" -d"${RUN_SECS}s" "http://127.0.0.1:$1$HTTP_PATH" | awk '/^Requests\/sec:/ {print $2}'
}
h2load_run() { # port; HTTP/1.1 (--h1), the same connections as wrk
	h2load --h1 -t2 -c"$CONNS" -D "$RUN_SECS" "http://127.0.0.1:$1$HTTP_PATH" 2>/dev/null |
		awk '/^finished in/ {gsub(",", "", $4); print $4}'
}
ps_http_run() { # port
	"$PS" bench http1 --target "127.0.0.1:$1" -c "$CONNS" -d "${RUN_SECS}s" --paths "$HTTP_PATH" --json --quiet | jq -r .throughput
}
dnsperf_run() { # port
	dnsperf -s 127.0.0.1 -p "$1" -d "$QUERIES" -l "$RUN_SECS" -c "$DNS_CLIENTS" -T 2 -q "$DNS_OUTSTANDING" 2>/dev/null |
		awk '/Queries per second:/ {print $4}'
}
ps_dns_run() { # port
	"$PS" bench dns --target "udp://127.0.0.1:$1" -c "$DNS_CLIENTS" -p "$DNS_PIPE" -d "${RUN_SECS}s" --queries "$QUERIES" --json --quiet |
		jq -r .throughput
}

declare -A RES CPU
measure() { # key cmd port [server PID: its CPU per request is measured too]
	local v before after us
	[ -n "${4:-}" ] && before=$(cpu_ticks "$4")
	v=$("$2" "$3" || true)
	[ -n "$v" ] || v=0
	RES[$1]+="$v "
	if [ -z "${4:-}" ]; then
		printf '  %-22s %12.0f /s\n' "$1" "$v"
		return
	fi
	after=$(cpu_ticks "$4")
	# microseconds of the server's CPU per request (query) it answered
	us=$(awk -v t=$((after - before)) -v hz="$HZ" -v rate="$v" -v secs="$RUN_SECS" \
		'BEGIN { if (rate > 0) printf "%.2f", t / hz * 1e6 / (rate * secs); else print 0 }')
	CPU[$1]+="$us "
	printf '  %-22s %12.0f /s %8.2f us CPU each\n' "$1" "$v" "$us"
}

echo "protospec bench vs wrk/dnsperf: $ROUNDS rounds of ${RUN_SECS}s, $CONNS HTTP connections, dnsperf -c $DNS_CLIENTS -q $DNS_OUTSTANDING (protospec -c $DNS_CLIENTS -p $DNS_PIPE)"
echo "nginx 127.0.0.1:$NGX_PORT  nsd 127.0.0.1:$NSD_PORT  reference http1 127.0.0.1:$REF_HTTP_PORT  reference dns 127.0.0.1:$REF_DNS_PORT ($REF_DNS)"
# pairs: the measurements of one round, in pairs whose order alternates
# from round to round, so that neither tool always meets a server warmed
# by the other. A fourth word is the server's PID, whose CPU is measured.
pairs=(
	"wrk@nginx wrk_run $NGX_PORT $NGX_PID|protospec@nginx ps_http_run $NGX_PORT"
	"dnsperf@nsd dnsperf_run $NSD_PORT $NSD_PID|protospec@nsd ps_dns_run $NSD_PORT"
	"wrk@reference wrk_run $REF_HTTP_PORT $REF_HTTP_PID|protospec@ref-http1 ps_http_run $REF_HTTP_PORT"
)
[ $HAVE_H2LOAD = yes ] && pairs+=("h2load@nginx h2load_run $NGX_PORT|h2load@reference h2load_run $REF_HTTP_PORT")
[ $HAVE_UNBOUND = yes ] && pairs+=("dnsperf@unbound dnsperf_run $UB_PORT|protospec@unbound ps_dns_run $UB_PORT")
[ $HAVE_KNOT = yes ] && pairs+=("dnsperf@knot dnsperf_run $KNOT_PORT $KNOT_PID|protospec@knot ps_dns_run $KNOT_PORT")
[ $REF_DNS = yes ] && pairs+=("dnsperf@reference dnsperf_run $REF_DNS_PORT $REF_DNS_PID|protospec@ref-dns ps_dns_run $REF_DNS_PORT")

for r in $(seq 1 "$ROUNDS"); do
	echo "round $r"
	for p in "${pairs[@]}"; do
		a=${p%%|*} b=${p#*|}
		if [ $((r % 2)) -eq 0 ]; then a=${p#*|} b=${p%%|*}; fi
		# shellcheck disable=SC2086 # each half is "key function port [pid]"
		measure $a
		# shellcheck disable=SC2086
		measure $b
	done
done

median() { tr ' ' '\n' <<<"${RES[$1]:-}" | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
cpu_median() { tr ' ' '\n' <<<"${CPU[$1]:-}" | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a/b; else print "n/a" }'; }
# line LABEL GOAL A B: the ratio A/B, and whether it meets GOAL (">=1" or "<=1")
line() {
	local r verdict
	r=$(ratio "$3" "$4")
	verdict=$(awk -v r="${r%x}" -v g="$2" 'BEGIN { if (r == "n/a") print "n/a"; else if ((g == ">=1" && r >= 1) || (g == "<=1" && r <= 1)) print "meets"; else print "MISSES" }')
	printf '  %-44s %7s  goal %s: %s\n' "$1" "$r" "${2/1/1.0}" "$verdict"
}

echo
echo "medians (requests or queries per second; server CPU per answer where measured)"
for k in wrk@nginx h2load@nginx protospec@nginx dnsperf@nsd protospec@nsd dnsperf@knot protospec@knot dnsperf@unbound protospec@unbound wrk@reference h2load@reference protospec@ref-http1 dnsperf@reference protospec@ref-dns; do
	[ -n "${RES[$k]:-}" ] || continue
	if [ -n "${CPU[$k]:-}" ]; then
		printf '  %-22s %12.0f  %8.2f us CPU   (runs: %s)\n' "$k" "$(median $k)" "$(cpu_median $k)" "${RES[$k]% }"
	else
		printf '  %-22s %12.0f                 (runs: %s)\n' "$k" "$(median $k)" "${RES[$k]% }"
	fi
done

# pcap: protospec pcap ls against tcpdump -r F -w /dev/null on one capture
# (median wall time of three runs each, interleaved).
PCAP_FLOWS=${PCAP_FLOWS:-20000}
"$PS" pcap synth --flows "$PCAP_FLOWS" --out "$T/bench.pcapng" >/dev/null
if command -v tcpdump >/dev/null; then
	wall() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
	declare -a TD PS_T
	for _ in 1 2 3; do
		TD+=("$(wall tcpdump -r "$T/bench.pcapng" -w /dev/null)")
		PS_T+=("$(wall "$PS" pcap ls "$T/bench.pcapng")")
	done
	TD_MED=$(printf '%s\n' "${TD[@]}" | sort -g | sed -n 2p)
	PS_MED=$(printf '%s\n' "${PS_T[@]}" | sort -g | sed -n 2p)
	echo "  pcap ($PCAP_FLOWS HTTP connections, $(stat -c %s "$T/bench.pcapng") bytes): tcpdump ${TD_MED}s, protospec pcap ls ${PS_MED}s"
fi

echo
echo "ratios"
line "protospec/wrk on nginx" ">=1" "$(median protospec@nginx)" "$(median wrk@nginx)"
[ $HAVE_H2LOAD = yes ] && line "protospec/h2load on nginx" ">=1" "$(median protospec@nginx)" "$(median h2load@nginx)"
line "protospec/dnsperf on nsd" ">=1" "$(median protospec@nsd)" "$(median dnsperf@nsd)"
[ $HAVE_UNBOUND = yes ] && line "protospec/dnsperf on unbound" ">=1" "$(median protospec@unbound)" "$(median dnsperf@unbound)"
line "reference/nginx throughput (wrk)" ">=1" "$(median wrk@reference)" "$(median wrk@nginx)"
[ $HAVE_H2LOAD = yes ] && line "reference/nginx throughput (h2load)" ">=1" "$(median h2load@reference)" "$(median h2load@nginx)"
line "reference/nginx CPU per request (wrk)" "<=1" "$(cpu_median wrk@reference)" "$(cpu_median wrk@nginx)"
if [ $REF_DNS = yes ]; then
	line "reference/nsd throughput (dnsperf)" ">=1" "$(median dnsperf@reference)" "$(median dnsperf@nsd)"
	line "reference/nsd CPU per query" "<=1" "$(cpu_median dnsperf@reference)" "$(cpu_median dnsperf@nsd)"
	[ $HAVE_KNOT = yes ] && line "reference/knot CPU per query" "<=1" "$(cpu_median dnsperf@reference)" "$(cpu_median dnsperf@knot)"
fi
[ -n "${PS_MED:-}" ] && line "protospec pcap ls/tcpdump speed" ">=1" "$TD_MED" "$PS_MED"
exit 0
