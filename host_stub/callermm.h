/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The calling process's memory map for ikernel's host stub
 * (host_stub/callermm.c), called from Rust (host_stub/sys.rs).
 */
#ifndef IKERNEL_HOST_CALLERMM_H
#define IKERNEL_HOST_CALLERMM_H

#include <linux/types.h>

int ikernel_caller_map(u64 *out, unsigned int max);
bool ikernel_caller_points(const u64 *words, unsigned int n);

#endif /* IKERNEL_HOST_CALLERMM_H */
