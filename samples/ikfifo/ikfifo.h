/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ikfifo: a small shared FIFO character device (/dev/ikfifo).
 *
 * User-space interface: read(2), write(2), poll(2), lseek(2) and the
 * ioctls below.  Writes of up to IKFIFO_ATOMIC_MAX bytes are atomic.
 */
#ifndef _UAPI_IKFIFO_H
#define _UAPI_IKFIFO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IKFIFO_ATOMIC_MAX	64

struct ikfifo_stats {
	__u32 capacity;		/* bytes the FIFO holds */
	__u32 used;		/* bytes buffered now */
	__u64 bytes_read;	/* since the module was loaded */
	__u64 bytes_written;	/* since the module was loaded */
};

#define IKFIFO_IOC_MAGIC	'k'

#define IKFIFO_GET_STATS	_IOR(IKFIFO_IOC_MAGIC, 1, struct ikfifo_stats)
/* Set this open file's tag. */
#define IKFIFO_SET_TAG		_IOW(IKFIFO_IOC_MAGIC, 2, __u64)
/* Swap this open file's tag with *arg; the old tag is returned in *arg. */
#define IKFIFO_XCHG_TAG		_IOWR(IKFIFO_IOC_MAGIC, 3, __u64)

/*
 * Two legacy commands without direction and size bits (not _IO*()).
 *
 * IKFIFO_CLEAR takes the integer 0, discards the FIFO's contents and
 * returns the number of bytes discarded.
 *
 * IKFIFO_LEGACY_GET_CAP takes a pointer to a __u32 and stores the
 * capacity there: direction "read", size 4, although the command number
 * does not say so.
 */
#define IKFIFO_CLEAR		0x6b10
#define IKFIFO_LEGACY_GET_CAP	0x6b11

#endif /* _UAPI_IKFIFO_H */
