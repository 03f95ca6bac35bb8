// SPDX-License-Identifier: GPL-2.0
/*
 * ikernel's host stub trace events (trace.h), for the Rust code: the
 * tracepoint calls are inline, so each event gets one small function here
 * (sys/trace.rs calls them).  Each returns at once while its event is off.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
#include "trace_calls.h"

void ikernel_trace_call_submit(u32 channel, u32 generation, u64 id, u32 op,
			       u32 export, u32 len)
{
	trace_ikernel_call_submit(channel, generation, id, op, export, len);
}

void ikernel_trace_call_done(u32 channel, u64 id, u32 op, s64 result)
{
	trace_ikernel_call_done(channel, id, op, result);
}

void ikernel_trace_call_timeout(u32 channel, u64 id, u32 op, u32 timeout_ms)
{
	trace_ikernel_call_timeout(channel, id, op, timeout_ms);
}

void ikernel_trace_violation(u32 channel, u32 generation, u32 code)
{
	trace_ikernel_violation(channel, generation, code);
}

void ikernel_trace_state(u32 channel, u32 generation, u32 state)
{
	trace_ikernel_state(channel, generation, state);
}
