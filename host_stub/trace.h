/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of ikernel's host stub (tracefs: events/ikernel/).  A call's
 * life is ikernel_call_submit then ikernel_call_done, matched by channel
 * and id; ikernel_call_timeout when its deadline passes;
 * ikernel_violation when the driver VM breaks the ring; ikernel_state
 * when the VMM reports a state or a new generation.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ikernel

#if !defined(IKERNEL_HOST_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define IKERNEL_HOST_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(ikernel_call_submit,
	TP_PROTO(u32 channel, u32 generation, u64 id, u32 op, u32 export,
		 u32 len),
	TP_ARGS(channel, generation, id, op, export, len),
	TP_STRUCT__entry(
		__field(u32, channel)
		__field(u32, generation)
		__field(u64, id)
		__field(u32, op)
		__field(u32, export)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->channel = channel;
		__entry->generation = generation;
		__entry->id = id;
		__entry->op = op;
		__entry->export = export;
		__entry->len = len;
	),
	TP_printk("channel=%u generation=%u id=%llu op=%u export=%u len=%u",
		  __entry->channel, __entry->generation, __entry->id,
		  __entry->op, __entry->export, __entry->len)
);

TRACE_EVENT(ikernel_call_done,
	TP_PROTO(u32 channel, u64 id, u32 op, s64 result),
	TP_ARGS(channel, id, op, result),
	TP_STRUCT__entry(
		__field(u32, channel)
		__field(u64, id)
		__field(u32, op)
		__field(s64, result)
	),
	TP_fast_assign(
		__entry->channel = channel;
		__entry->id = id;
		__entry->op = op;
		__entry->result = result;
	),
	TP_printk("channel=%u id=%llu op=%u result=%lld", __entry->channel,
		  __entry->id, __entry->op, __entry->result)
);

TRACE_EVENT(ikernel_call_timeout,
	TP_PROTO(u32 channel, u64 id, u32 op, u32 timeout_ms),
	TP_ARGS(channel, id, op, timeout_ms),
	TP_STRUCT__entry(
		__field(u32, channel)
		__field(u64, id)
		__field(u32, op)
		__field(u32, timeout_ms)
	),
	TP_fast_assign(
		__entry->channel = channel;
		__entry->id = id;
		__entry->op = op;
		__entry->timeout_ms = timeout_ms;
	),
	TP_printk("channel=%u id=%llu op=%u timeout_ms=%u", __entry->channel,
		  __entry->id, __entry->op, __entry->timeout_ms)
);

TRACE_EVENT(ikernel_violation,
	TP_PROTO(u32 channel, u32 generation, u32 code),
	TP_ARGS(channel, generation, code),
	TP_STRUCT__entry(
		__field(u32, channel)
		__field(u32, generation)
		__field(u32, code)
	),
	TP_fast_assign(
		__entry->channel = channel;
		__entry->generation = generation;
		__entry->code = code;
	),
	TP_printk("channel=%u generation=%u code=%u", __entry->channel,
		  __entry->generation, __entry->code)
);

TRACE_EVENT(ikernel_state,
	TP_PROTO(u32 channel, u32 generation, u32 state),
	TP_ARGS(channel, generation, state),
	TP_STRUCT__entry(
		__field(u32, channel)
		__field(u32, generation)
		__field(u32, state)
	),
	TP_fast_assign(
		__entry->channel = channel;
		__entry->generation = generation;
		__entry->state = state;
	),
	TP_printk("channel=%u generation=%u state=%u", __entry->channel,
		  __entry->generation, __entry->state)
);

#endif /* IKERNEL_HOST_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
