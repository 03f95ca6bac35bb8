#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh [KSRC [OUTDIR [KHDR]]]: builds the kernel's own GPIO tools
# tools/gpio/lsgpio and tools/gpio/gpio-hammer (each with gpio-utils.c),
# unmodified, into OUTDIR.
#
#   KSRC    Linux source tree (default: the cached kernel's ikernel-source)
#   OUTDIR  output directory (default: build/gpio-tools in the repository)
#   KHDR    exported uapi headers (default: the cached build's usr/include)
#
# Linked statically, like rtc/build.sh's rtctest, so that the same binary
# runs on the test host against native and exported chips.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
if [ $# -lt 3 ]; then
	kdir=$("$repo/scripts/build-kernel" --print-only)
fi
ksrc=${1:-$kdir/ikernel-source}
out=${2:-$repo/build/gpio-tools}
khdr=${3:-$kdir/usr/include}
src=$ksrc/tools/gpio

[ -f "$src/lsgpio.c" ] || { echo "build.sh: no $src/lsgpio.c" >&2; exit 1; }
[ -f "$khdr/linux/gpio.h" ] || { echo "build.sh: no $khdr/linux/gpio.h (run make headers in the kernel build)" >&2; exit 1; }
mkdir -p "$out"
# tools/gpio/Makefile's flags (-O2 -Wall -g -D_GNU_SOURCE) with the exported
# uapi headers, plus -static.
for tool in lsgpio gpio-hammer; do
	${CC:-gcc} -O2 -Wall -D_GNU_SOURCE -static -isystem "$khdr" \
		-o "$out/$tool" "$src/$tool.c" "$src/gpio-utils.c"
	echo "$out/$tool"
done
