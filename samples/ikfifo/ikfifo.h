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
 * Peek files: a new file, handed out as a file descriptor, whose read(2)
 * returns the FIFO's buffered bytes without consuming them (blocking while
 * it is empty, unless non-blocking), whose poll(2) reports EPOLLIN while
 * bytes are buffered, and which takes the tag ioctls and IKFIFO_GET_STATS
 * as an open of /dev/ikfifo does.  It is read-only and not seekable.
 *
 * IKFIFO_NEW_PEEK takes a struct ikfifo_peek and stores the new
 * descriptor in its fd field; IKFIFO_PEEK_FD takes the flags as its
 * integer argument and returns the new descriptor.
 */
#define IKFIFO_PEEK_NONBLOCK	0x1	/* the new file is O_NONBLOCK */
#define IKFIFO_PEEK_CLOEXEC	0x2	/* the new descriptor is FD_CLOEXEC */
#define IKFIFO_PEEK_FLAGS	(IKFIFO_PEEK_NONBLOCK | IKFIFO_PEEK_CLOEXEC)

struct ikfifo_peek {
	__u64 tag;		/* in: the new file's tag */
	__u32 flags;		/* in: IKFIFO_PEEK_* */
	__s32 fd;		/* out: the new file's descriptor */
};

#define IKFIFO_NEW_PEEK		_IOWR(IKFIFO_IOC_MAGIC, 4, struct ikfifo_peek)
#define IKFIFO_PEEK_FD		_IO(IKFIFO_IOC_MAGIC, 5)

/*
 * The shared area: IKFIFO_SHM_PAGES pages of driver memory, zeroed at
 * load, that mmap(2) of the node maps (file offsets 0 up; shared or
 * private, any protection the open mode allows).  The driver reads and
 * writes it too, through two ioctls that take a struct ikfifo_shm_io:
 * IKFIFO_SHM_READ copies @len bytes from @offset into @data, and
 * IKFIFO_SHM_WRITE copies @len bytes of @data to @offset.  A range that
 * does not fit the area is EINVAL.  Peek files cannot be mapped (ENODEV).
 */
#define IKFIFO_SHM_PAGES	4
#define IKFIFO_SHM_IO_MAX	64

struct ikfifo_shm_io {
	__u32 offset;		/* byte offset in the area */
	__u32 len;		/* bytes, at most IKFIFO_SHM_IO_MAX */
	__u8 data[IKFIFO_SHM_IO_MAX];
};

#define IKFIFO_SHM_READ		_IOWR(IKFIFO_IOC_MAGIC, 6, struct ikfifo_shm_io)
#define IKFIFO_SHM_WRITE	_IOW(IKFIFO_IOC_MAGIC, 7, struct ikfifo_shm_io)

/*
 * IKFIFO_XFER: a batch of messages, each with a buffer of its own (like
 * I2C_RDWR).  The driver reads the array of @nmsgs messages at @msgs, then
 * runs them in order: IKFIFO_MSG_READ takes up to @len bytes out of the
 * FIFO into @buf (blocking, unless the file is O_NONBLOCK, while the FIFO
 * is empty and nothing was taken yet by this message), any other message
 * appends @len bytes of @buf (at most the free space; it never blocks).
 * After each message it stores the bytes moved in that message's @done
 * (only that field); at the end it stores the messages completed in
 * @nr_done.  A buffer that faults part-way ends the batch with EFAULT
 * after storing what moved: the bytes before the fault are moved (taken
 * out of the FIFO, or appended) and counted in @done, the rest stay
 * where they were, and that message does not count as completed (nor
 * does one whose @done cannot be stored: EFAULT too).
 *
 * @nmsgs 0 or above IKFIFO_XFER_MAX is EINVAL, and an unreadable @msgs
 * array EFAULT; then nothing runs and nothing is stored.  A READ message
 * that finds the FIFO empty on an O_NONBLOCK file ends the batch with
 * EAGAIN, and a signal during its wait with EINTR once earlier messages
 * have run (otherwise the call restarts); its @done is left alone.
 * @nr_done is stored once the batch has started, whatever ends it.  The
 * file position does not move.
 */
#define IKFIFO_MSG_READ		0x1
#define IKFIFO_XFER_MAX		16

struct ikfifo_msg {
	__u64 buf;		/* user pointer */
	__u32 len;
	__u32 flags;		/* IKFIFO_MSG_* */
	__u32 done;		/* out: bytes moved */
	__u32 pad;		/* untouched by the driver */
};

struct ikfifo_xfer {
	__u64 msgs;		/* user pointer to struct ikfifo_msg[nmsgs] */
	__u32 nmsgs;		/* 1..IKFIFO_XFER_MAX */
	__u32 nr_done;		/* out: messages completed */
};

#define IKFIFO_XFER		_IOWR(IKFIFO_IOC_MAGIC, 8, struct ikfifo_xfer)

/*
 * IKFIFO_CHAIN: a linked list of nodes starting at @head (0: no nodes),
 * each appended to the FIFO in order (at most the free space, never
 * blocking; no other write comes between two nodes of a chain).  The
 * driver stores the bytes taken in each node's @done (only that field)
 * and, whatever ends the chain, the nodes taken in @count.  A node that
 * cannot be read, whose buffer faults part-way or whose @done cannot be
 * stored ends the chain with EFAULT: the bytes before the fault are
 * appended and counted in that node's @done, and the node is not counted
 * in @count.  A chain that goes on past IKFIFO_CHAIN_MAX nodes (the last
 * node allowed has a @next that is not 0: a loop, say) ends with E2BIG
 * after the first IKFIFO_CHAIN_MAX nodes were taken.  The file position
 * does not move.
 */
#define IKFIFO_CHAIN_MAX	32

struct ikfifo_node {
	__u64 next;		/* user pointer to the next node, or 0 */
	__u64 buf;		/* user pointer */
	__u32 len;
	__u32 done;		/* out: bytes taken */
};

struct ikfifo_chain {
	__u64 head;		/* user pointer to the first node */
	__u32 count;		/* out: nodes taken */
	__u32 pad;		/* untouched by the driver */
};

#define IKFIFO_CHAIN		_IOWR(IKFIFO_IOC_MAGIC, 9, struct ikfifo_chain)

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
