#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh [KSRC [OUTDIR [KHDR]]]: builds the kernel's own RTC selftest,
# tools/testing/selftests/rtc/rtctest.c, unmodified, into OUTDIR/rtctest.
#
#   KSRC    Linux source tree (default: the cached kernel's ikernel-source)
#   OUTDIR  output directory (default: build/rtc-selftest in the repository)
#   KHDR    exported uapi headers (default: the cached build's usr/include)
#
# The binary is linked statically, so that it also runs in a minimal
# initramfs (a driver VM) and on the host against an exported node such as
# /dev/ik_rtc0: `rtctest /dev/ik_rtc0`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
if [ $# -lt 3 ]; then
	kdir=$("$repo/scripts/build-kernel" --print-only)
fi
ksrc=${1:-$kdir/ikernel-source}
out=${2:-$repo/build/rtc-selftest}
khdr=${3:-$kdir/usr/include}
src=$ksrc/tools/testing/selftests/rtc/rtctest.c

[ -f "$src" ] || { echo "build.sh: no $src" >&2; exit 1; }
[ -f "$khdr/linux/rtc.h" ] || { echo "build.sh: no $khdr/linux/rtc.h (run make headers in the kernel build)" >&2; exit 1; }
mkdir -p "$out"
# The flags of tools/testing/selftests/rtc/Makefile (-O3 -Wall, -lrt
# -lpthread -lm) with lib.mk's uapi and harness include paths, plus -static.
${CC:-gcc} -O3 -Wall -D_GNU_SOURCE -static \
	-isystem "$khdr" -I"$ksrc/tools/testing/selftests" \
	-o "$out/rtctest" "$src" -lrt -lpthread -lm
echo "$out/rtctest"
