#!/usr/bin/env bash
# pcap-bench.sh: time protospec's capture reading against tcpdump and
# tshark on one large synthetic capture of HTTP/1.1 connections.
#
#   scripts/pcap-bench.sh [FLOWS]      # default 50000 connections (~500 MB)
#
# Prints, per tool, the median wall time of 3 runs, packets/s and MB/s.
# tcpdump only reads and rewrites the packets; tshark dissects every packet;
# protospec pcap ls reads, decodes, reassembles TCP and dissects HTTP.
set -euo pipefail
flows=${1:-50000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$(dirname "$0")/.."
go build -o "$dir/protospec" ./cmd/protospec
file="$dir/bench.pcapng"
"$dir/protospec" pcap synth --flows "$flows" --out "$file"
bytes=$(stat -c %s "$file")
packets=$("$dir/protospec" pcap ls "$file" | tail -1 | sed -E 's/^[^:]*: ([0-9]+) packets.*/\1/')
echo "capture: $file, $bytes bytes, $packets packets, $flows HTTP connections"

# median3 CMD...: runs CMD three times, prints the median seconds.
median3() {
	local t=()
	for _ in 1 2 3; do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t+=("$(echo "$e - $s" | bc)")
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n 2p
}

printf '%-28s %10s %14s %10s\n' TOOL SECONDS PACKETS/S MB/S
row() {
	local name=$1 secs=$2
	printf '%-28s %10.3f %14.0f %10.1f\n' "$name" "$secs" "$(echo "$packets / $secs" | bc -l)" "$(echo "$bytes / $secs / 1000000" | bc -l)"
}
if command -v tcpdump >/dev/null; then
	row "tcpdump -r -w /dev/null" "$(median3 tcpdump -r "$file" -w /dev/null)"
fi
if command -v tshark >/dev/null; then
	row "tshark -r" "$(median3 tshark -n -r "$file")"
fi
row "protospec pcap ls" "$(median3 "$dir/protospec" pcap ls "$file")"
