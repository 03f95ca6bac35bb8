# SPDX-License-Identifier: GPL-2.0
# Common code of the fault-isolation tests (issue 6): the isolated-driver
# test library plus the checks of the debug host kernel (KASAN, kmemleak,
# lockdep, hung tasks).  Sourced, inside the test VM, as root, under the
# faults kernel (selftests/ikernel/faults/run-in-vm.sh).
#
# The host side runs what was built against the faults kernel
# (FAULTS_MODULES, default build/faults/modules: ikernel_host.ko and the
# native ikfifo.ko); driver VMs boot the default kernel (IVT_KDIR) with the
# default in-tree guest_stub and driver modules, as in the isolated tests.
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
