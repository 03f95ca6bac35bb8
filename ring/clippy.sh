#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Lints ring/ with the kernel's rustc and clippy lints (Linux Makefile,
# rust_common_flags / KBUILD_CLIPPYFLAGS), as errors; with the feature
# hostile, so that the hostile-mode helpers are linted too.
set -e
cd "$(dirname "$0")/.."
exec cargo clippy -p ikernel-ring --lib --features hostile --target-dir target -- \
	-D warnings \
	-D unsafe_op_in_unsafe_fn \
	-W missing_docs \
	-W rust_2018_idioms \
	-W unreachable_pub \
	-W clippy::all \
	-W clippy::as_ptr_cast_mut \
	-W clippy::as_underscore \
	-W clippy::cast_lossless \
	-W clippy::ignored_unit_patterns \
	-W clippy::mut_mut \
	-W clippy::needless_bitwise_bool \
	-W clippy::ptr_as_ptr \
	-W clippy::ptr_cast_constness \
	-W clippy::ref_as_ptr \
	-W clippy::undocumented_unsafe_blocks \
	-W clippy::unnecessary_safety_comment \
	-W clippy::unnecessary_safety_doc \
	-A clippy::len_without_is_empty
