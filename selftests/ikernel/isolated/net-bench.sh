#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The network part of `make bench` (scripts/bench), inside the test VM that
# run-in-vm.sh net-bench boots with the NICs of netdev.sh: the same
# measurements natively (the test VM's own e1000e driver) and isolated (an
# e1000 run by a driver VM behind host_stub's ikn0), against the peer NIC
# in namespace peer: ping round trips, TCP both ways, UDP out; for the
# isolated side also the doorbells, interrupts and KVM exits per frame.
# Raw lines "SIDE net KEY=VALUE..." go to build/bench/net-raw.txt for
# bench/report.py.  Exit status 1 only if something is broken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
load_kvm_modules
NETLOG=$ROOT/build/bench/net
RAW=$ROOT/build/bench/net-raw.txt
mkdir -p "$NETLOG"
rm -rf "${NETLOG:?}"/*
: >"$RAW"
PINGS=${BENCH_NET_PINGS:-20}
BYTES=${BENCH_NET_BYTES:-4000000}
load_host_stub || { echo "net-bench: no host_stub"; exit 1; }
net_setup

# fig TAG FILE KEY: KEY's value in the last net_xfer line of FILE.
fig() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$NETLOG/$1" | tail -n 1; }
# ping_avg TAG: the average round trip in ms.
ping_avg() { sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$NETLOG/$1.ping"; }
# record SIDE: one raw line of the side's figures.
record() {
	local t=$1 sent recv
	sent=$(sed -n 's/.* datagrams=\([0-9]*\).*/\1/p' "$NETLOG/$t.udp-send")
	recv=$(sed -n 's/.* datagrams=\([0-9]*\).*/\1/p' "$NETLOG/$t.udp-recv")
	echo "$t net ping_avg_ms=$(ping_avg "$t") tcp_out_mbit=$(fig "$t.tcp-recv" mbit_s)" \
		"tcp_in_mbit=$(fig "$t.tcp-in-recv" mbit_s) udp_out_mbit=$(fig "$t.udp-send" mbit_s)" \
		"udp_sent=${sent:-0} udp_received=${recv:-0} $2" | tee -a "$RAW"
	grep -qv '=0$' "$NETLOG/$t.rc" && { echo "net-bench: $t: $(tr '\n' ' ' <"$NETLOG/$t.rc")"; exit 1; }
}

net_native || { echo "net-bench: no e1000e for the native side"; exit 1; }
measure native 10.98.0.1 native 5101 "$PINGS" "$BYTES"
record native

to_vfio "$PASS"
name=net-bench
cfg=$OUT/$name.toml
net_config "$cfg" "$name"
start_shim "$OUT/$name.log" "$cfg"
ikn0_up || { echo "net-bench: ikn0 never came up"; show_logs "$name"; exit 1; }
kvm=$(ls -d /sys/kernel/debug/kvm/"$SHIM_PID"-* 2>/dev/null | tail -n 1)
# counters: kicks interrupts (host_stub, the channel) exits io_exits
# (KVM, the driver VM) tx rx (ikn0's frames), one line.
counters() {
	echo "$(counter kicks)" "$(counter interrupts)" \
		"$(cat "$kvm/exits" 2>/dev/null || echo 0)" "$(cat "$kvm/io_exits" 2>/dev/null || echo 0)" \
		"$(link_stat tx_packets)" "$(link_stat rx_packets)"
}
before=$(counters)
measure "" 10.99.0.1 isolated 5201 "$PINGS" "$BYTES"
after=$(counters)
per=$(echo "$before $after" | awk '{
	f = ($11 - $5) + ($12 - $6); if (f < 1) f = 1
	printf "frames=%d doorbells_per_frame=%.3f interrupts_per_frame=%.3f exits_per_frame=%.2f io_exits_per_frame=%.3f",
		f, ($7 - $1) / f, ($8 - $2) / f, ($9 - $3) / f, ($10 - $4) / f }')
record isolated "$per"
stats | cut -d' ' -f1-30 | sed 's/^/# /'
stop_shim
exit 0
