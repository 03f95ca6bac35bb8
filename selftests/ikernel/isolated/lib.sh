# SPDX-License-Identifier: GPL-2.0
# Common code of the isolated-driver tests: ivt-shim's VM test library plus
# helpers to start a driver VM that exports nodes.  Sourced, inside the test
# VM, as root.
. "$(dirname "${BASH_SOURCE[0]}")/../../../ivt_shim/tests/vm/lib.sh"
SELF=$ROOT/selftests/ikernel
BIN=$ROOT/build/isolated
# The test flavour of guest_stub (make test-modules: --cfg ikernel_test),
# the only one with the hostile mode; driver VMs that attack the host load
# it instead of GUEST_STUB, the shipped one.
TEST_GUEST_STUB=$ROOT/build/default-test/modules/guest_stub/ikernel_guest.ko

# The hostile mode's attack kinds, in the order of their numbers in
# ikernel_guest.hostile= (guest_stub/hostile.rs).
HOSTILE_KIND_NAMES="wrong_id dup_resp len_past index_jump torn_header late_change doorbell_flood event_flood probe_outside net_junk new_file_junk mmap_junk"

# hostile_param KINDS: the value of ikernel_guest.hostile= for KINDS (names,
# comma- or space-separated, in order): one hexadecimal digit per kind, the
# first the most significant (wrong_id,len_past: 0x13).  Fails on an
# unknown name or more than 16 kinds.
hostile_param() {
	local v= k n i
	for k in ${1//,/ }; do
		i=0
		for n in $HOSTILE_KIND_NAMES; do
			i=$((i + 1))
			[ "$n" = "$k" ] && break
		done
		[ "$n" = "$k" ] || { echo "hostile_param: unknown attack kind $k" >&2; return 1; }
		v=$v$(printf %x "$i")
	done
	[ ${#v} -le 16 ] || { echo "hostile_param: more than 16 kinds" >&2; return 1; }
	echo "0x${v:-0}"
}

# ikfifo_export [legacy]: the TOML that loads the in-tree samples/ikfifo
# in the driver VM and exports its node to the host as /dev/ik_fifo (mode
# 0666, root's), for write_config.  With "legacy", also the export's ioctl
# table entry for IKFIFO_LEGACY_GET_CAP (see ikfifo_node_export).
ikfifo_export() {
	cat <<TOML
[[module]]
path = "$ROOT/samples/ikfifo/ikfifo.ko"

TOML
	ikfifo_node_export /dev/ikfifo ik_fifo "${1:-}"
}

# ikfifo_node_export GUEST_PATH HOST_NAME [legacy]: one [[export]] of an
# ikfifo node (mode 0666, root's).  With "legacy", also the ioctl table
# entry for IKFIFO_LEGACY_GET_CAP (0x6b11, which has no _IOC encoding: it
# writes 4 bytes to its argument).
ikfifo_node_export() {
	cat <<TOML
[[export]]
guest_path = "$1"
host_name = "$2"
mode = 0o666
owner = "root:root"
TOML
	[ "${3:-}" = legacy ] || return 0
	cat <<TOML
  [[export.ioctl]]
  cmd = 0x6b11
  dir = "read"
  size = 4
TOML
}

# wait_for SECONDS CMD...: runs CMD once a second until it succeeds, for
# up to SECONDS; succeeds if CMD did.
wait_for() {
	local n=$1 i=0
	shift
	until "$@"; do
		[ $i -ge "$n" ] && return 1
		sleep 1
		i=$((i + 1))
	done
}

# wait_node PATH [SECONDS]: waits for an exported node to appear.
wait_node() {
	wait_for "${2:-60}" test -c "$1"
}

# ready_generation LOG: the newest generation the shim that logs to LOG
# reported ready in its events (0 before the first).
ready_generation() {
	local g
	g=$(ev_last "$1" ready .generation)
	echo "${g:-0}"
}

# generation_ready LOG N: generation N, or a newer one, is READY.
generation_ready() {
	[ "$(ready_generation "$1")" -ge "$2" ]
}

# wait_generation LOG N [SECONDS]: waits up to SECONDS (default 300) for
# generation N, or a newer one, to be READY.
wait_generation() {
	wait_for "${3:-300}" generation_ready "$1" "$2"
}

# show_logs NAME: the shim's log and the driver VM's console, as TAP
# comments (on failure).
show_logs() {
	sed 's/^/# shim: /' "$OUT/$1.log" | tail -n 40
	sed 's/^/# console: /' "$OUT/$1.console.log" | tail -n 40
}
