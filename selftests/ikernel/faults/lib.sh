# SPDX-License-Identifier: GPL-2.0
# Common code of the fault-isolation tests (issue 6): the isolated-driver
# test library plus the checks of the debug host kernel (KASAN, kmemleak,
# lockdep, hung tasks).  Sourced, inside the test VM, as root, under the
# faults kernel (selftests/ikernel/faults/run-in-vm.sh).
#
# The host side runs what was built against the faults kernel
# (FAULTS_MODULES, default build/faults/modules: ikernel_host.ko and the
# native ikfifo.ko); driver VMs boot the default kernel (IVT_KDIR) with the
# default in-tree guest_stub and driver modules, as in the isolated tests
# (the hostile ones with the test flavour of guest_stub, TEST_GUEST_STUB).
#
# A test typically does:
#
#	kmemleak_baseline; dmesg_mark mytest
#	... make the driver VM misbehave ...
#	t_check "kmemleak: no new leak" kmemleak_check mytest
#	t_check "dmesg: no report" dmesg_sound mytest
. "$(dirname "${BASH_SOURCE[0]}")/../isolated/lib.sh"
FAULTS_MODULES=${FAULTS_MODULES:-$ROOT/build/faults/modules}
HOST_KO=$FAULTS_MODULES/host_stub/ikernel_host.ko
OUT=$ROOT/build/faults/out
mkdir -p "$OUT"
KMEMLEAK=/sys/kernel/debug/kmemleak
# Module symbols saved by kallsyms_save, valid for this boot only.
KSYMS=$OUT/kallsyms.$(cat /proc/sys/kernel/random/boot_id)
mkdir -p "$KSYMS"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

# Overrides ivt_shim's load_host_stub, which loads the in-tree module built
# for the default kernel: load the faults-built one.
load_host_stub() {
	[ -e /dev/ikernel ] && return 0
	insmod "$HOST_KO" || return 1
	kallsyms_save ikernel_host
	[ -e /dev/ikernel ]
}

# kallsyms_save MODULE: keeps the text symbols of the loaded MODULE, so that
# kmemleak_check can name the functions in the backtrace of an object that
# MODULE leaked and that is found only after rmmod, when kmemleak prints
# bare addresses.
kallsyms_save() {
	awk -v m="[$1]" '$4 == m && $2 ~ /^[tT]$/ && $1 !~ /^0+$/' /proc/kallsyms |
		LC_ALL=C sort >"$KSYMS/$1"
}

# kmemleak_symbolize FILE: FILE with every bare address of a backtrace that
# falls in a module saved by kallsyms_save followed by "symbol+off [module]".
kmemleak_symbolize() {
	cat "$KSYMS"/* 2>/dev/null | LC_ALL=C sort | awk '
	function hex(s,  i, n) {
		n = 0
		for (i = 1; i <= length(s); i++)
			n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	FILENAME == "-" { a[++ns] = $1; sym[ns] = $3; mod[ns] = $4; next }
	/^ +0x[0-9a-f]+$/ && length($1) == 18 {
		x = substr($1, 3)
		for (b = 0; b < ns && a[b + 1] <= x; b++)
			;
		# Offsets on the low 32 bits: awk numbers hold 53.
		if (b && substr(a[b], 1, 8) == substr(x, 1, 8)) {
			off = hex(substr(x, 9)) - hex(substr(a[b], 9))
			if (off < 1048576) {
				printf "%s %s+0x%x %s\n", $0, sym[b], off, mod[b]
				next
			}
		}
	}
	{ print }' - "$1"
}

# ko_kasan FILE: FILE was built with KASAN instrumentation (it calls
# KASAN's report functions), so it belongs to the faults kernel.
ko_kasan() { grep -q __asan_report "$1"; }

kasan_on() { dmesg | grep -q 'KernelAddressSanitizer initialized'; }
kmemleak_on() { [ -r "$KMEMLEAK" ] && [ -w "$KMEMLEAK" ]; }
lockdep_on() { [ -e /proc/lockdep ] && grep -q 'debug_locks:.*1' /proc/lockdep_stats; }

# kmemleak_scan: two scans, after the 5 s kmemleak waits before it reports
# an object, so that objects freed by a just-finished teardown are gone and
# a pointer that was only in flight during one scan is seen in the other.
kmemleak_scan() {
	sleep "${KMEMLEAK_SETTLE:-5}"
	echo scan >"$KMEMLEAK" && echo scan >"$KMEMLEAK"
}

# kmemleak_baseline: forgets what kmemleak suspects so far (boot-time noise
# of the kernel itself), so that kmemleak_check reports only what is new.
# The number of forgotten suspects in KMEMLEAK_FORGOTTEN, the reports in
# $OUT/kmemleak.baseline.txt.
kmemleak_baseline() {
	kmemleak_scan || return 1
	cat "$KMEMLEAK" >"$OUT/kmemleak.baseline.txt" || return 1
	KMEMLEAK_FORGOTTEN=$(grep -c '^unreferenced object' "$OUT/kmemleak.baseline.txt")
	echo clear >"$KMEMLEAK"
}

# kmemleak_check [NAME]: scans; fails on any suspected leak that is new
# since kmemleak_baseline or the previous kmemleak_check (which forgets
# what it reported), saying how many of them mention ikernel's modules.
# The reports go to $OUT/kmemleak.NAME.txt and, abridged, to stdout.
kmemleak_check() {
	local rep=$OUT/kmemleak.${1:-check}.txt n ours
	kmemleak_scan || { echo "kmemleak scan failed (kmemleak disabled itself?)"; return 1; }
	cat "$KMEMLEAK" >"$rep.raw" || return 1
	echo clear >"$KMEMLEAK"
	kmemleak_symbolize "$rep.raw" >"$rep"
	[ -s "$rep" ] || return 0
	n=$(grep -c '^unreferenced object' "$rep")
	ours=$(awk '/^unreferenced object/ { if (hit) c++; hit = 0 }
		/ikernel|host_stub|host_main|guest_stub|ikfifo/ { hit = 1 }
		END { if (hit) c++; print c + 0 }' "$rep")
	echo "kmemleak: $n new suspected leaks, $ours of them in ikernel's modules ($rep)"
	head -n 60 "$rep"
	return 1
}

# dmesg_mark NAME: a marker in the kernel log; dmesg_since and dmesg_sound
# look at what the kernel logged after the last one of that name.
dmesg_mark() { echo "ikernel-faults: mark ${1:-test}" >/dev/kmsg; }

# dmesg_since NAME: the kernel log after the last marker NAME; fails if
# there is no such marker (never set, or lost when the log wrapped).
dmesg_since() {
	dmesg | awk -v m="ikernel-faults: mark ${1:-test}" '
		index($0, m) && substr($0, index($0, m) + length(m)) == "" {
			found = 1; n = 0; delete l; next
		}
		found { l[n++] = $0 }
		END {
			if (!found) exit 1
			for (i = 0; i < n; i++) print l[i]
		}'
}

# The kernel reports every test counts (kmemleak's among them).
DMESG_BAD=$("$SELF/kernel-reports")

# dmesg_sound [NAME]: no KASAN, lockdep, hung-task, sleeping-in-atomic,
# kmemleak, WARN, BUG or oops report since dmesg_mark NAME; the offending
# lines (with some context) on stdout.
dmesg_sound() {
	local log hits
	log=$(dmesg_since "${1:-test}") || { echo "no marker '${1:-test}' in dmesg"; return 1; }
	hits=$(printf '%s\n' "$log" | grep -E -A 12 "$DMESG_BAD") || return 0
	printf '%s\n' "$hits" | head -n 80
	return 1
}

# The campaign's driver VM and load, shared by campaign.sh and restarts.sh
# (whose measurement is only worth something if it restarts the same
# driver VM under the same load).
# fault_load counts a call that has not ended after HANG_MS as hung.
HANG_MS=10000
# After an Oops or panic line the shim fails the calls at once, then lets
# the guest print its report for this long before it restarts it (the
# default 30 s: under nested TCG a KASAN host's driver VM needs over 30 s
# for an oops's report; 10 s keeps its first lines, RIP among them).
DYING_GRACE=10
BUGGY_TMO=3000
FIFO_KO=$ROOT/samples/ikfifo/ikfifo.ko
BUGGY_KO=$ROOT/samples/ikbuggy/ikbuggy.ko
CALL=$SELF/buggy_call
LOAD=$SELF/fault_load

# campaign_config FILE NAME CMDLINE BUGGY_PARAMS MAX_RESTARTS: the shim's
# configuration of the campaign (one driver VM serving ikfifo and ikbuggy),
# its console log $OUT/NAME.console.log, CMDLINE added to the guest's
# command line, BUGGY_PARAMS ikbuggy's module parameters.
campaign_config() {
	cat >"$1" <<TOML
# Generated by selftests/ikernel/faults/lib.sh (campaign_config)
[vm]
kernel = "$BZIMAGE"
memory_mib = 128
console_log = "$OUT/$2.console.log"
cmdline = "$3"

[image]
guest_stub = "$GUEST_STUB"

[restart]
ready = "$(ready_mode)"
max_restarts = $5
backoff_initial_ms = 200
backoff_max_ms = 2000
ready_timeout_s = 180
heartbeat_timeout_s = 20
dying_grace_s = $DYING_GRACE

[[module]]
path = "$FIFO_KO"

[[module]]
path = "$BUGGY_KO"
params = "$4"

[[export]]
guest_path = "/dev/ikfifo"
host_name = "ik_fifo"
mode = 0o666
owner = "root:root"
timeout_ms = $BUGGY_TMO
reopen = true

[[export]]
guest_path = "/dev/ikbuggy"
host_name = "ik_buggy"
mode = 0o666
owner = "root:root"
timeout_ms = $BUGGY_TMO
TOML
	rm -f "$OUT/$2.console.log"
}

# Counters of fault_load's status file: load_get FIELD.
load_get() {
	awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' \
		"$OUT/load.status" 2>/dev/null
}

# The calls that ended in an error, and the hung calls, so far.
load_errs() {
	echo $(($(load_get eio) + $(load_get timedout) + $(load_get other)))
}

# The load: 4 processes calling without a pause while the nodes serve,
# and retrying every 200 ms while they fail with EIO (a driver VM down).
# With fault_load's default 20 ms, 4 processes retried about 110 times a
# second, and on the KASAN host under TCG that took enough CPU to make each
# restart slower: in selftests/ikernel/faults/restarts.sh the shim's set-up
# of a new VM took 20 s and its boot to READY 64-85 s, against 10-13 s and
# 39-53 s with no load and 13-15 s and 45-71 s with 200 ms (3 restarts each).
LOAD_PAUSE_MS=200
start_load() {
	rm -f "$OUT/load.status"
	"$LOAD" -p 4 -H $HANG_MS -b $LOAD_PAUSE_MS -o "$OUT/load.status" \
		/dev/ik_fifo:wr /dev/ik_buggy:ri >"$OUT/load.out" 2>&1 &
	LOAD_PID=$!
	sleep 1
}

stop_load() {
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
}
