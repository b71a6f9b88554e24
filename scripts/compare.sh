#!/usr/bin/env bash
# compare.sh: measure `protospec bench` side by side with the standard load
# tools on the same targets, in one go, on loopback only:
#
#   protospec bench http1  vs  wrk and h2load --h1  against nginx and the reference (protospec serve http1)
#   protospec bench dns    vs  dnsperf  against nsd, unbound (a cache in front of nsd) and the reference (protospec serve dns)
#
# Runs alternate between the tools (ROUNDS rounds, each RUN_SECS long) and the
# medians are compared. It prints the ratios:
#   protospec/wrk and protospec/h2load on nginx, protospec/dnsperf on nsd and
#   on unbound                                  (>= 1.0: the engine keeps up)
#   reference/nginx (wrk), reference/nsd (dnsperf)  (how fast the references are)
# h2load (Debian nghttp2-client) and unbound are used when installed.
#
# Usage: scripts/compare.sh            # needs nginx, nsd, wrk, dnsperf, go
# Env:   ROUNDS=5 RUN_SECS=5 CONNS=32 HTTP_PATH=/data/1k.bin DNS_CLIENTS=4 DNS_OUTSTANDING=100
#        PROTOSPEC=path/to/protospec (default: built from this tree)
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

# ---- nginx (one worker, as in /work/shared/notes/third-party-servers.md)
NGX_PORT=$(free_port)
D=$T/nginx
mkdir -p "$D/tmp" "$D/html"
"$PS" fixtures http1 --out "$D/html" >/dev/null
cat >"$D/nginx.conf" <<EOF
daemon off;
worker_processes 1;
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
PIDS+=($!)
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
PIDS+=($!)
wait_tcp "$NSD_PORT"

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
PIDS+=($!)
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

declare -A RES
measure() { # key cmd port
	local v
	v=$("$2" "$3" || true)
	[ -n "$v" ] || v=0
	RES[$1]+="$v "
	printf '  %-22s %12.0f /s\n' "$1" "$v"
}

echo "protospec bench vs wrk/dnsperf: $ROUNDS rounds of ${RUN_SECS}s, $CONNS HTTP connections, dnsperf -c $DNS_CLIENTS -q $DNS_OUTSTANDING (protospec -c $DNS_CLIENTS -p $DNS_PIPE)"
echo "nginx 127.0.0.1:$NGX_PORT  nsd 127.0.0.1:$NSD_PORT  reference http1 127.0.0.1:$REF_HTTP_PORT  reference dns 127.0.0.1:$REF_DNS_PORT ($REF_DNS)"
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r"
	# Alternate which tool goes first, so that neither always meets a
	# server warmed by the other.
	if [ $((r % 2)) -eq 1 ]; then
		measure wrk@nginx wrk_run "$NGX_PORT"
		measure protospec@nginx ps_http_run "$NGX_PORT"
		measure dnsperf@nsd dnsperf_run "$NSD_PORT"
		measure protospec@nsd ps_dns_run "$NSD_PORT"
		if [ $HAVE_H2LOAD = yes ]; then measure h2load@nginx h2load_run "$NGX_PORT"; fi
		if [ $HAVE_UNBOUND = yes ]; then
			measure dnsperf@unbound dnsperf_run "$UB_PORT"
			measure protospec@unbound ps_dns_run "$UB_PORT"
		fi
		measure wrk@reference wrk_run "$REF_HTTP_PORT"
		measure protospec@ref-http1 ps_http_run "$REF_HTTP_PORT"
		if [ $HAVE_H2LOAD = yes ]; then measure h2load@reference h2load_run "$REF_HTTP_PORT"; fi
		if [ $REF_DNS = yes ]; then
			measure dnsperf@reference dnsperf_run "$REF_DNS_PORT"
			measure protospec@ref-dns ps_dns_run "$REF_DNS_PORT"
		fi
	else
		measure protospec@nginx ps_http_run "$NGX_PORT"
		measure wrk@nginx wrk_run "$NGX_PORT"
		measure protospec@nsd ps_dns_run "$NSD_PORT"
		measure dnsperf@nsd dnsperf_run "$NSD_PORT"
		if [ $HAVE_UNBOUND = yes ]; then
			measure protospec@unbound ps_dns_run "$UB_PORT"
			measure dnsperf@unbound dnsperf_run "$UB_PORT"
		fi
		if [ $HAVE_H2LOAD = yes ]; then measure h2load@nginx h2load_run "$NGX_PORT"; fi
		measure protospec@ref-http1 ps_http_run "$REF_HTTP_PORT"
		measure wrk@reference wrk_run "$REF_HTTP_PORT"
		if [ $HAVE_H2LOAD = yes ]; then measure h2load@reference h2load_run "$REF_HTTP_PORT"; fi
		if [ $REF_DNS = yes ]; then
			measure protospec@ref-dns ps_dns_run "$REF_DNS_PORT"
			measure dnsperf@reference dnsperf_run "$REF_DNS_PORT"
		fi
	fi
done

median() { tr ' ' '\n' <<<"${RES[$1]:-}" | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a/b; else print "n/a" }'; }

echo
echo "medians (requests or queries per second)"
for k in wrk@nginx h2load@nginx protospec@nginx dnsperf@nsd protospec@nsd dnsperf@unbound protospec@unbound wrk@reference h2load@reference protospec@ref-http1 dnsperf@reference protospec@ref-dns; do
	[ -n "${RES[$k]:-}" ] && printf '  %-22s %12.0f   (runs: %s)\n' "$k" "$(median $k)" "${RES[$k]% }"
done
echo
echo "ratios"
echo "  protospec/wrk on nginx           $(ratio "$(median protospec@nginx)" "$(median wrk@nginx)")"
if [ $HAVE_H2LOAD = yes ]; then
	echo "  protospec/h2load on nginx        $(ratio "$(median protospec@nginx)" "$(median h2load@nginx)")"
fi
echo "  protospec/dnsperf on nsd         $(ratio "$(median protospec@nsd)" "$(median dnsperf@nsd)")"
if [ $HAVE_UNBOUND = yes ]; then
	echo "  protospec/dnsperf on unbound     $(ratio "$(median protospec@unbound)" "$(median dnsperf@unbound)")"
fi
echo "  reference/nginx throughput (wrk) $(ratio "$(median wrk@reference)" "$(median wrk@nginx)")"
if [ $HAVE_H2LOAD = yes ]; then
	echo "  reference/nginx throughput (h2load) $(ratio "$(median h2load@reference)" "$(median h2load@nginx)")"
fi
if [ $REF_DNS = yes ]; then
	echo "  reference/nsd throughput (dnsperf) $(ratio "$(median dnsperf@reference)" "$(median dnsperf@nsd)")"
else
	echo "  reference/nsd throughput (dnsperf) n/a (no 'protospec serve dns' yet)"
fi
