# SPDX-License-Identifier: GPL-2.0
#
# ikernel: isolate unmodified Linux drivers in driver VMs.
#
#   make demo     the main job: boot the test VM and show the stubs at work
#   make check    every test that fits in 30 minutes; the last line is
#                 "N passed, N failed" (STAGES=a,b runs a subset)
#   make soak     the long runs (10^5-call stress, every hostile kind, the
#                 fault campaign); results in soak/results/
#
# Both install what they need (scripts/setup-toolchain) and build the kernel
# into a cache outside the clone (scripts/build-kernel) unless KDIR= names
# your own Rust-enabled kernel build tree.
#
# When Kbuild reads this directory (make -C $KDIR M=$PWD), it uses the file
# Kbuild, not this Makefile.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# KDIR: a full kernel build tree (with rust/*.rmeta), default the cached one.
KDIR ?= $(shell $(ROOT)/scripts/build-kernel --print-only)
# FAULTS_KDIR: the fault tests' host kernel (kconfig/faults.config: KASAN,
# kmemleak), default the cached one.
FAULTS_KDIR ?= $(shell $(ROOT)/scripts/build-kernel --flavour faults --print-only)
KMAKE = source $(ROOT)/scripts/lib.sh && kmake

.PHONY: all setup install uninstall kernel modules test-modules kernel-faults modules-faults served clippy rustfmt selftests check soak demo bench faults clean help

all: modules served

help:
	@echo 'Targets:'
	@echo '  demo       boot the test VM and show both stub modules loading'
	@echo '  check      run the tests that fit in 30 minutes (STAGES=a,b: a subset; scripts/check --help)'
	@echo '  soak       the long runs: 10^5-call stress, every hostile kind, the fault campaign'
	@echo '  bench      measure ikfifo, then a network export, native vs isolated (two test VMs); report in bench/results/'
	@echo '  faults     inject 100+ driver and hostile-guest faults under a KASAN host; print the table'
	@echo '  setup      install missing toolchain pieces (Debian, crates.io, PyPI)'
	@echo '  install    install ivt-shim, ikernel-served, the modules and docs (DESTDIR, PREFIX; scripts/install --help)'
	@echo '  uninstall  remove what make install put there (same DESTDIR and PREFIX)'
	@echo '  kernel     build the cached test kernel'
	@echo '  modules    build host_stub and guest_stub (KDIR=... for your own tree)'
	@echo '  test-modules  their test flavour (--cfg ikernel_test: the hostile guest) into build/default-test/modules'
	@echo '  kernel-faults   build the cached fault-test host kernel (KASAN, kmemleak)'
	@echo '  modules-faults  build the modules against it into build/faults/modules'
	@echo '  served     build the driver VM serving process (build/served/ikernel-served)'
	@echo '  clippy     build the modules with CLIPPY=1, failing on any warning'
	@echo '  rustfmt    check the Rust sources with the kernel rustfmt config'
	@echo '  selftests  build the kselftests in selftests/ikernel'
	@echo '  clean      remove build products from the clone (not the kernel cache)'

setup:
	@$(ROOT)/scripts/setup-toolchain

kernel: setup
	@$(ROOT)/scripts/build-kernel >/dev/null

# The modules depend on the cached kernel only when KDIR was not given.
ifeq ($(origin KDIR),file)
modules test-modules clippy selftests install: kernel
endif

modules:
	@$(KMAKE) -C $(KDIR) M=$(ROOT) modules

# The test flavour: rustc gets --cfg ikernel_test (IKERNEL_TEST=1 to
# Kbuild), which adds guest_stub's hostile mode; into
# build/default-test/modules, so the shipped modules stay as they are.
test-modules:
	@$(ROOT)/scripts/build-modules --flavour default --kernel $(KDIR) --test >/dev/null

kernel-faults: setup
	@$(ROOT)/scripts/build-kernel --flavour faults >/dev/null

# Into build/faults/modules; the in-tree objects of `make modules` stay.
ifeq ($(origin FAULTS_KDIR),file)
modules-faults: kernel-faults
endif

modules-faults:
	@$(ROOT)/scripts/build-modules --flavour faults --kernel $(FAULTS_KDIR) >/dev/null

served:
	@mkdir -p $(ROOT)/build/served
	@$(MAKE) -s -C $(ROOT)/served O=$(ROOT)/build/served

clippy:
	@$(ROOT)/scripts/clippy-modules $(KDIR)

rustfmt:
	@$(ROOT)/scripts/rustfmt-check $(KDIR)

selftests:
	@$(MAKE) -s -C $(ROOT)/selftests/ikernel OUTPUT=$(ROOT)/selftests/ikernel KSRC=$$(source $(ROOT)/scripts/lib.sh && kernel_source $(KDIR)) \
		KHDR_INCLUDES="-isystem $(KDIR)/usr/include"

check: setup
	@$(ROOT)/scripts/check

soak: setup
	@$(ROOT)/scripts/soak

demo: setup
	@$(ROOT)/scripts/demo

bench: setup
	@$(ROOT)/scripts/bench

faults: setup
	@$(ROOT)/scripts/faults

# KDIR/GUEST_KDIR, DESTDIR, PREFIX and SYSCONFDIR reach the script from
# the environment (make exports command-line variables).
install: setup
	@KDIR=$(KDIR) $(ROOT)/scripts/install

uninstall:
	@$(ROOT)/scripts/install --uninstall

clean:
	@if [ -d "$(KDIR)" ]; then $(KMAKE) -C $(KDIR) M=$(ROOT) clean >/dev/null; fi
	@rm -rf $(ROOT)/build $(addprefix $(ROOT)/selftests/ikernel/,control_test channel_test kvm_smoke_test fifo_test fifo_stress fault_load buggy_call)
	@cargo clean --manifest-path $(ROOT)/Cargo.toml 2>/dev/null || true
