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
HOSTILE_KIND_NAMES="wrong_id dup_resp len_past index_jump torn_header late_change doorbell_flood event_flood probe_outside net_junk new_file_junk mmap_junk info_junk remote_junk"

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

# sysfs_ident NODE: what this kernel's sysfs says the device node NODE is,
# as a driver VM describes its node to host_stub (ring op NODE_INFO,
# Documentation/ring.rst): SUBSYSTEM=, DRIVER= if bound, the uevent lines,
# then ATTR{name}= for each attribute that can be read (names only: values
# such as an RTC's time change).
sysfs_ident() {
	local t=char dir f
	[ -b "$1" ] && t=block
	dir=/sys/dev/$t/$((0x$(stat -L -c %t "$1"))):$((0x$(stat -L -c %T "$1")))
	echo "SUBSYSTEM=$(basename "$(readlink "$dir/subsystem")")"
	[ -L "$dir/driver" ] && echo "DRIVER=$(basename "$(readlink "$dir/driver")")"
	grep -v '^SUBSYSTEM=\|^DRIVER=' "$dir/uevent"
	for f in "$dir"/*; do
		case ${f##*/} in uevent | dev) continue ;; esac
		[ -f "$f" ] && [ ! -L "$f" ] && head -n 1 "$f" >/dev/null 2>&1 &&
			echo "ATTR{${f##*/}}="
	done
}

# host_ident NAME: the same for the node host_stub exports as NAME, from
# its guest_uevent and guest_attrs (attribute values left out).
host_ident() {
	local d=/sys/class/ikernel/$1
	cat "$d/guest_uevent"
	sed -n 's/^\([^=]*\)=.*/ATTR{\1}=/p' "$d/guest_attrs"
}

# check_remote NAME MIN DESC: export NAME ran remote ioctls, the driver VM
# fetching the callers' pages as the driver touched them: its statistics
# count at least MIN pages fetched and no step that broke the rules.
check_remote() {
	local rm_pages rm_bad
	rm_pages=$(cat "/sys/class/ikernel/$1/stats/remote_pages" 2>/dev/null)
	rm_bad=$(cat "/sys/class/ikernel/$1/stats/bad_remote" 2>/dev/null)
	t_check "$3 (stats/remote_pages ${rm_pages:-?}, bad_remote ${rm_bad:-?})" \
		eval '[ "${rm_pages:-0}" -ge '"$2"' ] && [ "${rm_bad:-1}" = 0 ]'
}

# check_ident FILE NAME GUEST_DEVNAME: the export NAME describes itself
# as sysfs_ident described the native node into FILE (same subsystem, driver,
# uevent variables and attribute names; DEVNAME is the guest's, MAJOR and
# MINOR may differ), and its own uevent and udev's properties carry the
# guest's subsystem and name.
check_ident() {
	local native=$1 name=$2 devname=$3 node=/sys/class/ikernel/$2 want got
	# Asked for when the node was made; a read asks again if the node
	# was missing then.
	wait_for 30 eval '[ -n "$(cat "$node/guest_subsystem" 2>/dev/null)" ]'
	cp "$native" "$OUT/ident-$name.native"
	host_ident "$name" >"$OUT/ident-$name.host" 2>&1
	sed 's/^/# guest sysfs: /' "$OUT/ident-$name.host"
	sed 's/^/# guest_attrs: /' "$node/guest_attrs"
	want=$(sed 's/^SUBSYSTEM=//;t;d' "$native")
	t_check "$name: guest_subsystem is $(cat "$node/guest_subsystem"), as natively ($want)" \
		[ "$(cat "$node/guest_subsystem")" = "$want" ]
	# Numbers and the name are the guest's; the rest must match.
	want=$(grep -v '^\(MAJOR\|MINOR\|DEVNAME\)=' "$native" | sort)
	got=$(grep -v '^\(MAJOR\|MINOR\|DEVNAME\)=' "$OUT/ident-$name.host" | sort)
	t_check "$name: the guest's driver, uevent variables and attribute names are the native node's" \
		[ "$want" = "$got" ]
	[ "$want" = "$got" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
	t_check "$name: guest_uevent names the guest node (DEVNAME=$devname) with its numbers" \
		eval 'grep -qx "DEVNAME=$devname" "$OUT/ident-$name.host" &&
			grep -q "^MAJOR=[0-9]" "$OUT/ident-$name.host"'
	t_check "$name: its uevent carries IKERNEL_GUEST_SUBSYSTEM and IKERNEL_GUEST_DEVNAME" \
		eval 'grep -qx "IKERNEL_GUEST_SUBSYSTEM=$(cat "$node/guest_subsystem")" "$node/uevent" &&
			grep -qx "IKERNEL_GUEST_DEVNAME=$devname" "$node/uevent"'
	if command -v udevadm >/dev/null; then
		t_check "$name: udevadm info shows the guest's identity (IKERNEL_GUEST_DEVNAME=$devname)" \
			eval 'udevadm info -q property -n "/dev/$name" | grep -qx "IKERNEL_GUEST_DEVNAME=$devname"'
	else
		t_skip "$name: udevadm info (no udevadm here)"
	fi
}

# show_logs NAME: the shim's log and the driver VM's console, as TAP
# comments (on failure).
show_logs() {
	sed 's/^/# shim: /' "$OUT/$1.log" | tail -n 40
	sed 's/^/# console: /' "$OUT/$1.console.log" | tail -n 40
}
