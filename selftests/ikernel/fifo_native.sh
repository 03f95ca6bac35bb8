#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ikfifo sample driver loaded natively in the test VM: fifo_test
# (whose transcript, /tmp/fifo-native.txt, is the reference an isolated
# run is compared with) and fifo_stress against /dev/ikfifo, the capacity
# parameter's bounds, and a stress run with the smallest FIFO.  Leaves
# ikfifo unloaded.  Run as root in the test VM.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/ktap.sh"

ko=$repo/samples/ikfifo/ikfifo.ko
node=/dev/ikfifo
transcript=${FIFO_TRANSCRIPT:-/tmp/fifo-native.txt}

loaded() { grep -q "^ikfifo " /proc/modules; }
node_present() { for _ in $(seq 50); do [ -c "$node" ] && return 0; sleep 0.1; done; return 1; }
node_absent() { for _ in $(seq 50); do [ -e "$node" ] || return 0; sleep 0.1; done; return 1; }
# A misc device (major 10) that everybody may read and write.
node_is_0666_misc() {
	[ "$(stat -c '%t %a' "$node")" = "a 666" ] || { stat -c '%t %a' "$node"; return 1; }
}
# run_logged NAME CMD...: CMD's TAP output goes to $logs/NAME; on failure
# everything but its passing lines is shown.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run_logged() {
	local name=$1 rc=0
	shift
	"$@" >"$logs/$name" 2>&1 || rc=$?
	[ $rc = 0 ] && return 0
	grep -vE '^(ok |#  *OK |#  *RUN )' "$logs/$name"
	echo "exit status $rc"
	return $rc
}
# The calls/s line of a stress run, as a TAP comment.
show_rate() { grep -h 'calls in' "$logs/$1" 2>/dev/null | sed "s/^# */# $1: /"; }
insmod_refused() { ! insmod "$ko" "$@" 2>/dev/null && ! loaded; }
stats_capacity() {
	local cap
	cap=$(cat /sys/module/ikfifo/parameters/capacity) || return 1
	[ "$cap" = "$1" ] || { echo "capacity $cap, want $1"; return 1; }
}

ktap_plan 14
loaded && rmmod ikfifo
ktap_check "insmod ikfifo" insmod "$ko"
ktap_check "$node appears" node_present
ktap_check "$node is a 0666 misc device" node_is_0666_misc
start=$(date +%s%N)
ktap_check "fifo_test passes natively" run_logged fifo_test "$here/fifo_test" -d "$node" -t "$transcript"
echo "# fifo_test: $(grep -ho '[0-9]* / [0-9]* tests passed' "$logs/fifo_test")," \
	"$(wc -l <"$transcript") operations in $(( ($(date +%s%N) - start) / 1000000 )) ms"
ktap_check "fifo_test transcript written" test -s "$transcript"
ktap_check "fifo_stress passes natively" run_logged fifo_stress "$here/fifo_stress" -d "$node"
show_rate fifo_stress
ktap_check "rmmod ikfifo" rmmod ikfifo
ktap_check "$node goes away" node_absent
ktap_check "capacity=0 is refused" insmod_refused capacity=0
ktap_check "capacity=63 (below one atomic write) is refused" insmod_refused capacity=63
ktap_check "capacity=1048577 is refused" insmod_refused capacity=1048577
ktap_check "insmod ikfifo capacity=64" eval 'insmod "$ko" capacity=64 && stats_capacity 64 && node_present'
ktap_check "fifo_stress with a 64-byte FIFO" run_logged fifo_stress_64 "$here/fifo_stress" -d "$node" -n 1500
show_rate fifo_stress_64
ktap_check "rmmod ikfifo" eval 'rmmod ikfifo && node_absent'
ktap_finish
