/* SPDX-License-Identifier: GPL-2.0 */
/* The functions of trace.c, called from Rust (sys/trace.rs). */
#ifndef IKERNEL_HOST_TRACE_CALLS_H
#define IKERNEL_HOST_TRACE_CALLS_H

#include <linux/types.h>

void ikernel_trace_call_submit(u32 channel, u32 generation, u64 id, u32 op,
			       u32 export, u32 len);
void ikernel_trace_call_done(u32 channel, u64 id, u32 op, s64 result);
void ikernel_trace_call_timeout(u32 channel, u64 id, u32 op, u32 timeout_ms);
void ikernel_trace_violation(u32 channel, u32 generation, u32 code);
void ikernel_trace_state(u32 channel, u32 generation, u32 state);

#endif /* IKERNEL_HOST_TRACE_CALLS_H */
