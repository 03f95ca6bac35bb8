#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# insmod, rmmod and re-insmod of both ikernel modules, and of their test
# flavour (make test-modules: build/default-test/modules), which must load
# in their place and alone has the hostile parameters.  Leaves the shipped
# ones loaded.  Run as root in the test VM; the modules are looked up in
# the repository.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/ktap.sh"

host_ko=$repo/host_stub/ikernel_host.ko
guest_ko=$repo/guest_stub/ikernel_guest.ko
test_host_ko=$repo/build/default-test/modules/host_stub/ikernel_host.ko
test_guest_ko=$repo/build/default-test/modules/guest_stub/ikernel_guest.ko

loaded() { grep -q "^$1 " /proc/modules; }
not_loaded() { ! loaded "$1"; }
# Wait for devtmpfs to show (or drop) a node: udev is not involved.
node_present() { for _ in $(seq 50); do [ -c "$1" ] && return 0; sleep 0.1; done; return 1; }
node_absent() { for _ in $(seq 50); do [ -e "$1" ] || return 0; sleep 0.1; done; return 1; }
logged() { dmesg | grep -q "$1"; }
# A module with an open file must not unload: rmmod is refused with EBUSY.
rmmod_refused_while_open() {
	local rc=0
	exec 3<>"$2" || return 1
	rmmod "$1" 2>/dev/null && rc=1
	exec 3>&-
	loaded "$1" || return 1
	return $rc
}

# has_hostile KO: the module declares guest_stub's hostile= parameter
# (its .modinfo "parm=hostile:" entry).
has_hostile() { grep -aq 'parm=hostile:' "$1"; }

ktap_plan 21
for m in ikernel_host ikernel_guest; do
	loaded "$m" && rmmod "$m"
done
ktap_check "insmod ikernel_host" insmod "$host_ko"
ktap_check "/dev/ikernel appears" node_present /dev/ikernel
ktap_check "host stub logs its version" logged 'ikernel host stub [0-9]*\.[0-9]*\.[0-9]* loaded'
ktap_check "insmod ikernel_guest" insmod "$guest_ko"
ktap_check "/dev/ikernel_guest appears" node_present /dev/ikernel_guest
ktap_check "guest stub logs its version" logged 'ikernel guest stub [0-9]*\.[0-9]*\.[0-9]* loaded'
ktap_check "rmmod ikernel_host refused while /dev/ikernel is open" \
	rmmod_refused_while_open ikernel_host /dev/ikernel
ktap_check "rmmod ikernel_guest refused while /dev/ikernel_guest is open" \
	rmmod_refused_while_open ikernel_guest /dev/ikernel_guest
ktap_check "rmmod ikernel_host" rmmod ikernel_host
ktap_check "/dev/ikernel goes away" node_absent /dev/ikernel
ktap_check "rmmod ikernel_guest" rmmod ikernel_guest
ktap_check "/dev/ikernel_guest goes away" node_absent /dev/ikernel_guest
ktap_check "both modules are gone" eval 'not_loaded ikernel_host && not_loaded ikernel_guest'
ktap_check "the shipped ikernel_guest has no hostile parameter" eval '! has_hostile "$guest_ko"'
ktap_check "the test flavour of ikernel_guest has it" has_hostile "$test_guest_ko"
ktap_check "insmod the test flavour of ikernel_host" insmod "$test_host_ko"
ktap_check "insmod the test flavour of ikernel_guest" insmod "$test_guest_ko"
ktap_check "rmmod both test-flavour modules" rmmod ikernel_host ikernel_guest
ktap_check "re-insmod ikernel_host" insmod "$host_ko"
ktap_check "re-insmod ikernel_guest" insmod "$guest_ko"
ktap_check "nodes are back" eval 'node_present /dev/ikernel && node_present /dev/ikernel_guest'
ktap_finish
