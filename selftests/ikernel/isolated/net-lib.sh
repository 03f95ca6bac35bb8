# SPDX-License-Identifier: GPL-2.0
# Common code of the network export test (netdev.sh) and benchmark
# (net-bench.sh), inside the test VM that run-in-vm.sh boots with an
# emulated IOMMU, two e1000 NICs and an e1000e on one hub.  Sourced after
# lib.sh.
XFER=$SELF/net_xfer

# in_peer CMD...: CMD in namespace peer.
in_peer() { ip netns exec peer "$@"; }

# net_setup: finds the NICs (PASS: the e1000 to hand through; PEER: the
# other e1000; NATIVE: the e1000e, empty if none) and puts the peer's
# interface (PEERIF) into namespace peer with 10.99.0.1 and 10.98.0.1.
net_setup() {
	local d
	NICS=()
	NATIVE=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] || continue
		case $(cat "$d/device") in
		0x100e) NICS+=("${d##*/}") ;;
		0x10d3) NATIVE=${d##*/} ;;
		esac
	done
	PASS=${NICS[0]:-none}
	PEER=${NICS[1]:-none}
	PEERIF=$(ls "/sys/bus/pci/devices/$PEER/net" 2>/dev/null | head -n 1)
	ip netns add peer
	ip link set "$PEERIF" netns peer
	ip -n peer addr add 10.99.0.1/24 dev "$PEERIF"
	ip -n peer addr add 10.98.0.1/24 dev "$PEERIF"
	ip -n peer link set lo up
	# QEMU's e1000 counts a TSO send as one packet: without TSO the
	# peer's tx_packets counts frames on the wire, as the tests compare.
	in_peer "$SELF/ethtool_stats" --no-tso "$PEERIF"
	ip -n peer link set "$PEERIF" up
}

# net_native: the e1000e, run by this kernel's own driver, in namespace
# native as 10.98.0.2; its interface in NATIF.  Fails without one.
net_native() {
	[ -n "$NATIVE" ] || return 1
	modprobe e1000e 2>/dev/null
	NATIF=$(ls "/sys/bus/pci/devices/$NATIVE/net" 2>/dev/null | head -n 1)
	ip netns add native
	ip link set "$NATIF" netns native
	ip -n native addr add 10.98.0.2/24 dev "$NATIF"
	ip -n native link set lo up
	ip -n native link set "$NATIF" up
	wait_for 20 eval '[ "$(ip netns exec native cat /sys/class/net/$NATIF/carrier)" = 1 ]'
}

# to_vfio BDF: binds the function to vfio-pci.
to_vfio() {
	modprobe vfio-pci
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	[ -e "/sys/bus/pci/devices/$1/driver" ] &&
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe
}

# net_config FILE NAME: the driver VM that runs PASS and exports its eth0
# as ikn0, for write_config (IVT_IMAGE_EXTRA and GUEST_STUB as there).
net_config() {
	write_config "$1" "$2" "
[[pci]]
host = \"$PASS\"

[[netdev]]
guest_if = \"eth0\"
host_name = \"ikn0\""
}

# stats: host_stub's statistics line of ikn0; counter NAME: one value of
# it; link_stat NAME: one of ikn0's interface statistics.
stats() { grep "^net ikn0 " /sys/kernel/debug/ikernel/stats; }
counter() { stats | tr ' ' '\n' | grep -A1 -x "$1" | tail -n 1; }
link_stat() { cat "/sys/class/net/ikn0/statistics/$1"; }

# ikn0_up: gives ikn0 10.99.0.2 and waits up to 120 s for its carrier.
ikn0_carrier() { [ "$(cat /sys/class/net/ikn0/carrier 2>/dev/null)" = 1 ]; }
ikn0_up() {
	wait_for 600 eval '[ -e /sys/class/net/ikn0 ] || ! kill -0 $SHIM_PID' &&
		ip addr add 10.99.0.2/24 dev ikn0 &&
		ip link set ikn0 up &&
		wait_for 120 ikn0_carrier
}

# measure NS DST TAG PORT PINGS BYTES: from namespace NS ("" for this
# one) to DST in namespace peer: PINGS pings, a TCP transfer of BYTES
# bytes each way and 500 UDP datagrams of 1400 bytes.  Exit statuses in
# $NETLOG/TAG.rc, the tools' lines in $NETLOG/TAG.*.
measure() {
	local ns=$1 dst=$2 tag=$3 port=$4 pings=$5 bytes=$6 r
	local run=()
	[ -n "$ns" ] && run=(ip netns exec "$ns")
	"${run[@]}" busybox ping -c "$pings" -W 5 "$dst" >"$NETLOG/$tag.ping" 2>&1
	echo "ping=$?" >"$NETLOG/$tag.rc"
	in_peer "$XFER" recv "$port" 60 >"$NETLOG/$tag.tcp-recv" 2>&1 &
	r=$!
	sleep 1
	"${run[@]}" "$XFER" send "$dst" "$port" "$bytes" >"$NETLOG/$tag.tcp-send" 2>&1
	echo "tcp_send=$?" >>"$NETLOG/$tag.rc"
	wait $r
	echo "tcp_recv=$?" >>"$NETLOG/$tag.rc"
	"${run[@]}" "$XFER" recv "$((port + 2))" 60 >"$NETLOG/$tag.tcp-in-recv" 2>&1 &
	r=$!
	sleep 1
	in_peer "$XFER" send "${dst%.1}.2" "$((port + 2))" "$bytes" >"$NETLOG/$tag.tcp-in-send" 2>&1
	echo "tcp_in_send=$?" >>"$NETLOG/$tag.rc"
	wait $r
	echo "tcp_in_recv=$?" >>"$NETLOG/$tag.rc"
	in_peer "$XFER" urecv "$((port + 1))" 5 >"$NETLOG/$tag.udp-recv" 2>&1 &
	r=$!
	sleep 1
	"${run[@]}" "$XFER" usend "$dst" "$((port + 1))" 500 1400 >"$NETLOG/$tag.udp-send" 2>&1
	echo "udp_send=$?" >>"$NETLOG/$tag.rc"
	wait $r
	echo "udp_recv=$?" >>"$NETLOG/$tag.rc"
	sed "s/^/# $tag: /" "$NETLOG/$tag.rc" "$NETLOG/$tag.tcp-recv" "$NETLOG/$tag.tcp-in-recv" \
		"$NETLOG/$tag.udp-send" "$NETLOG/$tag.udp-recv"
	grep 'round-trip\|packet loss' "$NETLOG/$tag.ping" | sed "s/^/# $tag ping: /"
}
