/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ikbuggy: a deliberately buggy character device (/dev/ikbuggy).
 *
 * Working interface: read(2) returns the message, at first the greeting
 * IKBUGGY_GREETING, then the text the last write(2) stored (up to its
 * first NUL byte; writes of up to IKBUGGY_MSG_SIZE bytes); writes leave
 * the file position alone.  IKBUGGY_GET_COUNT reads a counter of the
 * operations served since the module was loaded.
 *
 * Bugs, on purpose (the driver is the fault campaign's victim):
 *
 * - IKBUGGY_OOPS dereferences a NULL pointer (an oops);
 * - IKBUGGY_SPIN busy-waits forever in the kernel, without sleeping;
 * - IKBUGGY_HANG busy-waits forever with interrupts disabled;
 * - a write of more than IKBUGGY_MSG_SIZE bytes overflows the small
 *   buffer the driver kmallocs for each message and smashes the slab
 *   next to it;
 * - the module parameter panic_on_load=1 panics the kernel in module init.
 */
#ifndef _UAPI_IKBUGGY_H
#define _UAPI_IKBUGGY_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IKBUGGY_GREETING	"Hello from ikbuggy\n"
/* The largest write the driver takes without corrupting memory. */
#define IKBUGGY_MSG_SIZE	32

#define IKBUGGY_IOC_MAGIC	'b'

/* Operations (reads, writes, ioctls) served since load, this one included. */
#define IKBUGGY_GET_COUNT	_IOR(IKBUGGY_IOC_MAGIC, 1, __u32)
/* Oopses: reads the flags of a configuration that was never allocated. */
#define IKBUGGY_OOPS		_IO(IKBUGGY_IOC_MAGIC, 2)
/* Spins forever: waits for a "hardware ready" flag nothing ever sets. */
#define IKBUGGY_SPIN		_IO(IKBUGGY_IOC_MAGIC, 3)
/* Hangs its CPU: the same wait with interrupts disabled. */
#define IKBUGGY_HANG		_IO(IKBUGGY_IOC_MAGIC, 4)

#endif /* _UAPI_IKBUGGY_H */
