#!/usr/bin/env bash
# compare-smtp.sh: measure `protospec bench smtp` side by side with
# postfix's smtp-source, the anchor client, on loopback only:
#
#   session rate   protospec bench smtp (greeting, EHLO, MAIL, RCPT, DATA,
#                  QUIT: one session per message)   vs
#                  smtp-source -s S -m M            (messages/s)
#   reused rate    protospec bench smtp --param mode=reuse   vs
#                  smtp-source -d -s S -m M         (messages/s, one
#                  connection per session sending message after message)
#
# Both send SIZE-octet bodies to bob@bob.test over CONNS connections;
# ROUNDS rounds alternating the tools; medians are printed with the ratio
# protospec/smtp-source (>= 1.0: the load client keeps up with the anchor).
# smtp-source sends a fixed number of messages (MSGS) and is timed from
# start to exit, so its figure includes its own start.
#
# The servers: the reference (protospec serve smtp, when this build has
# it), and every name=host:port of SMTP_SERVERS (a launcher's server,
# another machine's is not allowed: loopback only).
#
# Usage: scripts/compare-smtp.sh        # needs smtp-source (postfix), python3, go
# Env:   ROUNDS=3 RUN_SECS=3 CONNS=4 MSGS=2000 SIZE=1024 PROTOSPEC=path/to/protospec
#        SMTP_SERVERS="postfix=127.0.0.1:2525" REFERENCE=no
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
RUN_SECS=${RUN_SECS:-3}
CONNS=${CONNS:-4}
MSGS=${MSGS:-2000}
SIZE=${SIZE:-1024}
SOURCE=${SMTP_SOURCE:-$(command -v smtp-source || echo /usr/sbin/smtp-source)}

[ -x "$SOURCE" ] || { echo "compare-smtp.sh: smtp-source is not installed (apt-get install postfix)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare-smtp.sh: python3 is not installed" >&2; exit 2; }

T=$(mktemp -d /tmp/protospec-compare-smtp.XXXXXX)
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
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tcp() { # port
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "compare-smtp.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

SERVERS=()
if [ "${REFERENCE:-yes}" = yes ]; then
	if "$PS" serve smtp --help >/dev/null 2>&1 && "$PS" serve --help 2>&1 | grep -q 'smtp'; then
		REF_PORT=$(free_port)
		"$PS" serve smtp -q --addr "127.0.0.1:$REF_PORT" --param max-conns-per-client=64 2>"$T/ref.log" &
		PIDS+=($!)
		wait_tcp "$REF_PORT"
		SERVERS+=("reference=127.0.0.1:$REF_PORT")
	else
		echo "compare-smtp.sh: this protospec has no 'serve smtp': the reference is left out" >&2
	fi
fi
for s in ${SMTP_SERVERS:-}; do
	case "${s#*=}" in
	127.*:* | localhost:*) SERVERS+=("$s") ;;
	*) echo "compare-smtp.sh: $s is not on loopback: left out" >&2 ;;
	esac
done
[ ${#SERVERS[@]} -gt 0 ] || { echo "compare-smtp.sh: no server to measure (set SMTP_SERVERS=name=127.0.0.1:PORT)" >&2; exit 2; }

ps_rate() { # addr mode -> messages/s
	"$PS" bench smtp --target "$1" -c "$CONNS" -d "${RUN_SECS}s" --param "mode=$2" --param "size=$SIZE" --json --quiet |
		python3 -c "import json,sys; print(json.load(sys.stdin)['throughput'])"
}
source_rate() { # addr extra-flag -> messages/s
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$SOURCE" $2 -s "$CONNS" -m "$MSGS" -l "$SIZE" -f load@client.protospec.test -t bob@bob.test -M loadgen.protospec.test "$1" >/dev/null
	t1=$(date +%s.%N)
	python3 -c "print($MSGS/($t1-$t0))"
}

printf '%-10s %12s %12s %7s   %12s %12s %7s\n' server "ps sess/s" "src sess/s" ratio "ps reuse/s" "src reuse/s" ratio
for s in "${SERVERS[@]}"; do
	name=${s%%=*} addr=${s#*=}
	: >"$T/a"
	: >"$T/b"
	: >"$T/c"
	: >"$T/d"
	for _ in $(seq 1 "$ROUNDS"); do
		ps_rate "$addr" session >>"$T/a"
		source_rate "$addr" "" >>"$T/b"
		ps_rate "$addr" reuse >>"$T/c"
		source_rate "$addr" -d >>"$T/d"
	done
	a=$(median <"$T/a") b=$(median <"$T/b") c=$(median <"$T/c") d=$(median <"$T/d")
	printf '%-10s %12.0f %12.0f %7.2f   %12.0f %12.0f %7.2f\n' "$name" "$a" "$b" "$(python3 -c "print($a/$b)")" "$c" "$d" "$(python3 -c "print($c/$d)")"
done
