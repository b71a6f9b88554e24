#!/usr/bin/env bash
# compare-ftp.sh: measure `protospec bench ftp` side by side with curl, the
# anchor client, on loopback only, against the reference (protospec serve
# ftp) and, when installed, vsftpd:
#
#   transfer throughput  protospec bench ftp --param mode=retr (one RETR of
#                        FILE_MB MiB per request, EPSV, TYPE I)  vs
#                        curl -o /dev/null ftp://.../big.bin     (MB/s)
#   session rate         protospec bench ftp (connect, USER, PASS, QUIT)  vs
#                        a loop of curl -I ftp://.../big.bin (connect, login,
#                        SIZE/MDTM, QUIT: one process per session)      (sessions/s)
#
# One connection each (curl makes one); ROUNDS rounds alternating the tools,
# RUN_SECS each; medians are printed with the ratio protospec/curl (>= 1.0:
# the load client keeps up with the anchor). curl's session rate includes
# starting a process per session, so it is a floor, not a like-for-like
# figure.
#
# Usage: scripts/compare-ftp.sh          # needs curl, python3, go; vsftpd optional
# Env:   ROUNDS=5 RUN_SECS=3 FILE_MB=32 PROTOSPEC=path/to/protospec REFERENCE=no (vsftpd only)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}
RUN_SECS=${RUN_SECS:-3}
FILE_MB=${FILE_MB:-32}

for t in curl python3; do
	command -v "$t" >/dev/null || { echo "compare-ftp.sh: $t is not installed" >&2; exit 2; }
done

T=$(mktemp -d /tmp/protospec-compare-ftp.XXXXXX)
chmod 755 "$T"
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
	echo "compare-ftp.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

head -c $((FILE_MB << 20)) /dev/zero >"$T/big.bin"
SERVERS=()

# ---- the reference, with the big file stored over FTP itself
if [ "${REFERENCE:-yes}" = yes ]; then
REF_PORT=$(free_port)
mkdir -p "$T/ref"
"$PS" fixtures ftp --out "$T/ref" >/dev/null
"$PS" serve ftp --addr "127.0.0.1:$REF_PORT" --root "$T/ref" 2>"$T/ref.log" &
PIDS+=($!)
wait_tcp "$REF_PORT"
curl -s -T "$T/big.bin" --user bob:bob "ftp://127.0.0.1:$REF_PORT/upload/big.bin"
SERVERS+=("reference 127.0.0.1:$REF_PORT bob bob upload/big.bin")
fi

# ---- vsftpd (anonymous, the recipe of /work/shared/notes/third-party-servers.md 7)
if command -v vsftpd >/dev/null || [ -x /usr/sbin/vsftpd ]; then
	VS=$(command -v vsftpd || echo /usr/sbin/vsftpd)
	VS_PORT=$(free_port)
	D=$T/vsftpd
	mkdir -p "$D/anon/pub" "$D/empty"
	cp "$T/big.bin" "$D/anon/pub/big.bin"
	chmod 555 "$D/anon"
	cat >"$D/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$VS_PORT
background=NO
anonymous_enable=YES
anon_root=$D/anon
no_anon_password=NO
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_min_port=$((VS_PORT + 1))
pasv_max_port=$((VS_PORT + 40))
pasv_address=127.0.0.1
port_enable=YES
connect_from_port_20=NO
secure_chroot_dir=$D/empty
seccomp_sandbox=NO
xferlog_enable=NO
EOF
	"$VS" "$D/vsftpd.conf" >"$D/vsftpd.out" 2>&1 &
	PIDS+=($!)
	wait_tcp "$VS_PORT"
	SERVERS+=("vsftpd 127.0.0.1:$VS_PORT anonymous protospec@example.org pub/big.bin")
fi

ps_retr() { # addr user pass file -> MB/s
	"$PS" bench ftp --target "$1" -c 1 -d "${RUN_SECS}s" --param mode=retr --param "user=$2" --param "pass=$3" --param "file=$4" --json --quiet |
		python3 -c "import json,sys; d=json.load(sys.stdin); print(d['throughput']*$FILE_MB*1.048576)"
}
curl_retr() { # addr user pass file -> MB/s (one download, repeated for RUN_SECS)
	local end=$((SECONDS + RUN_SECS)) n=0 t0 t1
	t0=$(date +%s.%N)
	while [ $SECONDS -lt $end ] || [ $n -eq 0 ]; do
		curl -s -o /dev/null --user "$2:$3" "ftp://$1/$4"
		n=$((n + 1))
	done
	t1=$(date +%s.%N)
	python3 -c "print($n*$FILE_MB*1.048576/($t1-$t0))"
}
ps_sessions() { # addr user pass -> sessions/s
	"$PS" bench ftp --target "$1" -c 1 -d "${RUN_SECS}s" --param "user=$2" --param "pass=$3" --json --quiet |
		python3 -c "import json,sys; print(json.load(sys.stdin)['throughput'])"
}
curl_sessions() { # addr user pass file -> sessions/s
	local end=$((SECONDS + RUN_SECS)) n=0 t0 t1
	t0=$(date +%s.%N)
	while [ $SECONDS -lt $end ]; do
		curl -s -I -o /dev/null --user "$2:$3" "ftp://$1/$4"
		n=$((n + 1))
	done
	t1=$(date +%s.%N)
	python3 -c "print($n/($t1-$t0))"
}

printf '%-10s %14s %14s %7s   %14s %14s %7s\n' server "ps MB/s" "curl MB/s" ratio "ps sess/s" "curl sess/s" ratio
for s in "${SERVERS[@]}"; do
	read -r name addr user pass file <<<"$s"
	: >"$T/a" >"$T/b" >"$T/c" >"$T/d"
	for _ in $(seq 1 "$ROUNDS"); do
		ps_retr "$addr" "$user" "$pass" "$file" >>"$T/a"
		curl_retr "$addr" "$user" "$pass" "$file" >>"$T/b"
		ps_sessions "$addr" "$user" "$pass" >>"$T/c"
		curl_sessions "$addr" "$user" "$pass" "$file" >>"$T/d"
	done
	a=$(median <"$T/a") b=$(median <"$T/b") c=$(median <"$T/c") d=$(median <"$T/d")
	printf '%-10s %14.0f %14.0f %7.2f   %14.0f %14.0f %7.2f\n' "$name" "$a" "$b" "$(python3 -c "print($a/$b)")" "$c" "$d" "$(python3 -c "print($c/$d)")"
done
