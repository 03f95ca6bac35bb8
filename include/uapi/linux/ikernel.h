/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ikernel: user-space ABI of the host and guest stub control devices.
 *
 * /dev/ikernel (host_stub, ikernel_host.ko) is the host control device: root
 * only, each open file is one channel to one driver VM.
 * /dev/ikernel_guest (guest_stub, ikernel_guest.ko) is its counterpart in the
 * driver VM.
 */
#ifndef _UAPI_LINUX_IKERNEL_H
#define _UAPI_LINUX_IKERNEL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IKERNEL_IOC_MAGIC	0xB7

/* Which side answered IKERNEL_IOC_VERSION. */
#define IKERNEL_SIDE_HOST	1
#define IKERNEL_SIDE_GUEST	2

/**
 * struct ikernel_version - version of a stub module and of its wire ABI
 * @major:	module major version
 * @minor:	module minor version
 * @patch:	module patch level
 * @ring_abi:	version of the shared-window ABI the module speaks
 * @side:	IKERNEL_SIDE_HOST or IKERNEL_SIDE_GUEST
 * @reserved:	zero
 */
struct ikernel_version {
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 ring_abi;
	__u32 side;
	__u32 reserved;
};

#define IKERNEL_IOC_VERSION	_IOR(IKERNEL_IOC_MAGIC, 0x00, struct ikernel_version)

/*
 * Channel set-up, in this order, by the VMM (ivt-shim) on its open file of
 * /dev/ikernel:
 *
 * 1. IKERNEL_IOC_CREATE_WINDOW: host_stub allocates the shared window (zeroed
 *    pages, size a multiple of 4096) and initialises its header.
 * 2. mmap(fd, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED): the VMM maps the
 *    window and registers that mapping as guest memory of the driver VM.
 *    host_stub keeps its own kernel mapping of the same pages.
 * 3. IKERNEL_IOC_BIND_DOORBELLS: two eventfds.  @kick_fd is signalled when
 *    the guest writes its doorbell port (KVM ioeventfd); @call_fd is
 *    signalled by host_stub to interrupt the guest (KVM irqfd).
 * 4. IKERNEL_IOC_SET_STATE: the VMM reports the driver VM's life cycle.
 *    IKERNEL_VM_DOWN releases every waiter with EIO; IKERNEL_VM_RUNNING with
 *    a new generation starts a new incarnation.
 *
 * Closing the file tears the channel down and fails every call on it.
 */

/* Driver-VM states as the VMM reports them (struct ikernel_state.state). */
#define IKERNEL_VM_BOOTING	1
#define IKERNEL_VM_RUNNING	2
#define IKERNEL_VM_DOWN		3

/*
 * Window limits.  host_stub allocates the window from vmalloc memory, once
 * per driver VM; ivt-shim checks its configuration against the same bounds.
 * Each ring entry owns an equal share of the data area, at most
 * IKERNEL_MAX_SLOT_DATA bytes: the largest payload or reply of one request.
 * At most IKERNEL_MAX_SLOTS requests are in flight at once.
 */
#define IKERNEL_WINDOW_MIN		(16 << 10)
#define IKERNEL_WINDOW_MAX		(64 << 20)
#define IKERNEL_RING_ENTRIES_DEFAULT	64
#define IKERNEL_MAX_SLOTS		256
#define IKERNEL_MAX_SLOT_DATA		(1 << 20)

/**
 * struct ikernel_window - IKERNEL_IOC_CREATE_WINDOW argument
 * @size:	window size in bytes (in); a multiple of 4096 from
 *		IKERNEL_WINDOW_MIN to IKERNEL_WINDOW_MAX
 * @ring_entries: entries per ring (in); a power of two up to
 *		IKERNEL_MAX_SLOTS, 0 for IKERNEL_RING_ENTRIES_DEFAULT
 * @reserved:	zero
 */
struct ikernel_window {
	__u64 size;
	__u32 ring_entries;
	__u32 reserved;
};

/**
 * struct ikernel_doorbells - IKERNEL_IOC_BIND_DOORBELLS argument
 * @kick_fd:	eventfd signalled by the guest's doorbell (guest -> host)
 * @call_fd:	eventfd host_stub signals to interrupt the guest (host -> guest)
 */
struct ikernel_doorbells {
	__s32 kick_fd;
	__s32 call_fd;
};

/**
 * struct ikernel_state - IKERNEL_IOC_SET_STATE / IKERNEL_IOC_GET_STATE
 * @state:	IKERNEL_VM_*
 * @generation:	incarnation of the driver VM; changes on every restart
 * @guest_state: (get only) the guest's state word read from the window
 * @heartbeat:	(get only) the guest's heartbeat counter read from the window
 * @kicks:	(get only) doorbells rung by the guest since the doorbells were
 *		bound, as host_stub saw them
 * @broken:	(get only) 0 while the ring is sound; once the guest broke a
 *		protocol rule, 1 plus the number of the violation (the order
 *		of the ring's error list in Documentation/ring.rst).  Every
 *		call fails with EIO from then on: the VMM should restart the
 *		driver VM.
 * @reserved:	zero
 */
struct ikernel_state {
	__u32 state;
	__u32 generation;
	__u32 guest_state;
	__u32 heartbeat;
	__u64 kicks;
	__u32 broken;
	__u32 reserved;
};

#define IKERNEL_IOC_CREATE_WINDOW	_IOW(IKERNEL_IOC_MAGIC, 0x01, struct ikernel_window)
#define IKERNEL_IOC_BIND_DOORBELLS	_IOW(IKERNEL_IOC_MAGIC, 0x02, struct ikernel_doorbells)
#define IKERNEL_IOC_SET_STATE		_IOW(IKERNEL_IOC_MAGIC, 0x03, struct ikernel_state)
#define IKERNEL_IOC_GET_STATE		_IOR(IKERNEL_IOC_MAGIC, 0x04, struct ikernel_state)

/**
 * struct ikernel_guest_ram - IKERNEL_IOC_GUEST_RAM argument
 * @fd:		a memfd (shmem, not hugetlbfs) whose bytes 0 to @size are
 *		the driver VM's RAM from guest-physical address 0
 * @generation:	the incarnation that runs in it: the one IKERNEL_IOC_SET_STATE
 *		reported last
 * @size:	bytes of RAM, a multiple of 4096, at most the memfd's size
 *
 * With it, an mmap of an exported node maps the driver's pages (the guest
 * names them by guest-physical frame, IKERNEL_OP_MMAP) into the host
 * process.  host_stub holds the memfd until the generation ends; then it
 * unmaps every such mapping of the channel, and a later access to one is
 * SIGBUS.  Without it, mmap of an exported node fails with ENODEV.
 */
struct ikernel_guest_ram {
	__s32 fd;
	__u32 generation;
	__u64 size;
};

#define IKERNEL_IOC_GUEST_RAM		_IOW(IKERNEL_IOC_MAGIC, 0x07, struct ikernel_guest_ram)

/*
 * Exports: a device node of the driver VM served on the host.
 *
 * After the driver VM reported ready, the VMM calls IKERNEL_IOC_EXPORT once
 * per exported node.  host_stub creates /dev/<name> (class "ikernel", with
 * @mode, @uid and @gid in the initial user namespace) whose open, release,
 * read, write, llseek, unlocked_ioctl, compat_ioctl and poll are forwarded
 * to the node with index @index in the driver VM's export list.  Exports
 * stay until the channel closes; they survive driver-VM restarts, but files
 * opened before a restart fail with EIO afterwards.
 */
#define IKERNEL_NAME_MAX	32
#define IKERNEL_PATH_MAX	128

/* struct ikernel_ioctl_desc.dir: what the argument of an ioctl carries. */
#define IKERNEL_IOCTL_NONE	0	/* a plain integer */
#define IKERNEL_IOCTL_WRITE	1	/* user -> driver (_IOW) */
#define IKERNEL_IOCTL_READ	2	/* driver -> user (_IOR) */
#define IKERNEL_IOCTL_RW	3	/* both (_IOWR) */

/**
 * struct ikernel_ioctl_desc - how to forward an ioctl without _IOC encoding
 * @cmd:	the command
 * @dir:	IKERNEL_IOCTL_*
 * @size:	bytes at the argument pointer, at most IKERNEL_IOCTL_SIZE_MAX
 *		(0 for NONE)
 */
struct ikernel_ioctl_desc {
	__u32 cmd;
	__u16 dir;
	__u16 size;
};

/* The largest ioctl argument: the 14 bits of _IOC_SIZE. */
#define IKERNEL_IOCTL_SIZE_MAX	16383

#define IKERNEL_EXPORT_MAX_IOCTLS	64

/**
 * struct ikernel_export - IKERNEL_IOC_EXPORT argument
 * @name:	host node name, NUL-terminated, [A-Za-z0-9_.-], 1-31 characters
 * @index:	index of the node in the driver VM's export list
 * @mode:	permission bits of the host node (at most 0777)
 * @uid:	owner of the host node
 * @gid:	group of the host node
 * @timeout_ms:	deadline of every forwarded call, 0 for none (a call then
 *		waits like a native one, interruptible by signals)
 * @nr_ioctls:	entries at @ioctls, at most IKERNEL_EXPORT_MAX_IOCTLS
 * @ioctls:	user pointer to struct ikernel_ioctl_desc[@nr_ioctls]
 * @minor:	(out) minor number of the new node
 * @flags:	IKERNEL_EXPORT_* below
 * @guest_path: the node in the driver VM, NUL-terminated, 1-127 printable
 *		ASCII characters starting with '/' (informational: shown in
 *		/sys/class/ikernel/<name>/guest_path)
 * @vm_name:	the driver VM's name, NUL-terminated, 0-31 characters
 *		[A-Za-z0-9_.-] (informational: /sys/class/ikernel/<name>/vm_name)
 */
struct ikernel_export {
	char name[IKERNEL_NAME_MAX];
	__u32 index;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 timeout_ms;
	__u32 nr_ioctls;
	__u64 ioctls;
	__u32 minor;
	__u32 flags;
	char guest_path[IKERNEL_PATH_MAX];
	char vm_name[IKERNEL_NAME_MAX];
};

/*
 * Files of this export opened before a driver-VM restart reopen, with their
 * original flags, in the new VM at their next call instead of failing with
 * EIO.  Only for stateless devices: whatever state the old file had is lost.
 */
#define IKERNEL_EXPORT_REOPEN	(1U << 0)

#define IKERNEL_IOC_EXPORT	_IOWR(IKERNEL_IOC_MAGIC, 0x05, struct ikernel_export)

/* Longest host interface name of a net export, without its NUL (IFNAMSIZ - 1). */
#define IKERNEL_IFNAME_MAX	15

/**
 * struct ikernel_export_net - IKERNEL_IOC_EXPORT_NET argument
 * @name:	host network interface name, NUL-terminated, 1-15 characters
 *		[A-Za-z0-9_.-]
 * @index:	index of the interface in the driver VM's export list
 * @mtu:	MTU of the host interface (68-65535, and its frames must fit
 *		one slot's buffer); capped at the guest interface's MTU once
 *		the driver VM reports it
 * @ifindex:	(out) interface index of the new host interface
 * @flags:	zero
 * @guest_if:	the interface in the driver VM, NUL-terminated, 1-15
 *		characters (informational)
 * @vm_name:	the driver VM's name, as in struct ikernel_export
 *
 * The host interface's frames are sent and received by the guest
 * interface, with IKERNEL_OP_NET_* requests; it lasts as long as the
 * channel, across driver-VM restarts, with its carrier off while the
 * driver VM is not serving it.
 */
struct ikernel_export_net {
	char name[IKERNEL_NAME_MAX];
	__u32 index;
	__u32 mtu;
	__u32 ifindex;
	__u32 flags;
	char guest_if[IKERNEL_NAME_MAX];
	char vm_name[IKERNEL_NAME_MAX];
};

#define IKERNEL_IOC_EXPORT_NET	_IOWR(IKERNEL_IOC_MAGIC, 0x06, struct ikernel_export_net)

/*
 * The driver VM's serving process.
 *
 * Inside the driver VM, guest_stub takes requests from the shared window
 * and hands them to a serving process (ikernel-served) through
 * /dev/ikernel_guest.  That process performs each request with ordinary
 * system calls on the real device node, so the unmodified driver sees a
 * genuine process with genuine user buffers.  Any number of its threads may
 * wait in IKERNEL_IOC_GUEST_GET at once; each gets its own request.
 *
 * By default guest_stub copies each request's payload into the buffer the
 * process names, and the reply out of it.  A process may instead mmap()
 * the whole window from /dev/ikernel_guest (offset 0, the window's size,
 * MAP_SHARED) and ask for IKERNEL_GUEST_IN_WINDOW: the request is then
 * served in place, in its slot of the window, with no copy by the guest.
 * The driver's copy_{to,from}_user work on such a buffer, but it is a
 * VM_PFNMAP mapping, so get_user_pages() and pin_user_pages() fail on it:
 * a driver that pins user buffers (for DMA) needs the copying mode.
 */

/*
 * Operations (struct ikernel_guest_req.op), as on the wire.  A read's
 * reply_max is the bytes wanted and its arg how many of them the host
 * caller can take; a write's cmd is the bytes to write and its payload the
 * readable part of them; an llseek's pos is the host's position, arg the
 * offset and cmd the whence; an ioctl's pos is its argument's shape
 * (IKERNEL_IOCTL_ARG_* below).  Every op's fields: Documentation/ring.rst.
 */
#define IKERNEL_OP_OPEN		1	/* flags: open flags; result: handle */
#define IKERNEL_OP_RELEASE	2	/* last close of @handle */
#define IKERNEL_OP_READ		3	/* pos, reply_max, arg; reply: the bytes */
#define IKERNEL_OP_WRITE	4	/* pos, cmd; payload: the bytes */
#define IKERNEL_OP_LLSEEK	5	/* pos, arg: offset; cmd: whence */
#define IKERNEL_OP_IOCTL	6	/* cmd, arg, pos; payload/reply: arg bytes */
#define IKERNEL_OP_POLL		7	/* result 0, events: current mask */
#define IKERNEL_OP_CANCEL	8	/* arg: id of a request to interrupt */
#define IKERNEL_OP_MMAP		9	/* pos, arg: length, cmd; reply: frames */
#define IKERNEL_OP_NODE_INFO	10	/* reply: the node's sysfs identity */
#define IKERNEL_OP_IOCTL_PAGE	11	/* cmd: session; arg: page; pos: what */
/* Net exports (struct ikernel_export_net); batches as in Documentation/ring.rst. */
#define IKERNEL_OP_NET_XMIT	0x100	/* cmd: frames; payload: the batch */
#define IKERNEL_OP_NET_RECV	0x101	/* arg: wait in ms; reply: a batch */
#define IKERNEL_OP_NET_INFO	0x102	/* reply: MAC, 2 zero bytes, le32 MTU */

/*
 * struct ikernel_guest_req.pos of IKERNEL_OP_IOCTL: the argument's size
 * (bits 0-15), and how much of the host caller's argument is readable
 * (16-31) and writable (32-47); IKERNEL_IOCTL_ARG_LOST (bit 63) says the
 * argument could not be transferred at all (larger than a ring entry's
 * buffer): the driver must get a pointer it cannot access.  Every op's
 * fields are in Documentation/ring.rst.
 */
#define IKERNEL_IOCTL_ARG_SIZE(pos)	((pos) & 0xffff)
#define IKERNEL_IOCTL_ARG_R(pos)	(((pos) >> 16) & 0xffff)
#define IKERNEL_IOCTL_ARG_W(pos)	(((pos) >> 32) & 0xffff)
#define IKERNEL_IOCTL_ARG_LOST		(1ULL << 63)

/*
 * Remote ioctls (Documentation/ring.rst, "Remote ioctls").  With
 * IKERNEL_IOCTL_ARG_REMOTE in pos, arg is the host caller's own argument
 * and the payload a map of the caller's readable memory: records of two
 * __u64, start and end (page aligned), IKERNEL_MEM_RANGE_WRITABLE in bit 0
 * of end.  The guest answers with steps (IKERNEL_IOCTL_STEP in aux, the
 * session's token as the result) until the final answer:
 * IKERNEL_IOCTL_STEP_ADDR bits of aux name a page the driver needs, and
 * IKERNEL_IOCTL_STEP_WRITE_BACK says the reply holds write-back records
 * with more to come.  The host goes on with IKERNEL_OP_IOCTL_PAGE (cmd:
 * the token, arg: the page, pos: IKERNEL_PAGE_*, payload: the page's
 * bytes for IKERNEL_PAGE_DATA).  A write-back record is a __u64 address,
 * a __u32 length (1 to 4096, inside one page), a zero __u32 and the bytes,
 * padded with zeros to a multiple of 8; the final answer's reply holds the
 * last ones.  At most IKERNEL_REMOTE_PAGES_MAX pages travel per ioctl.
 */
#define IKERNEL_IOCTL_ARG_REMOTE	(1ULL << 62)
#define IKERNEL_MEM_RANGE_WRITABLE	1
#define IKERNEL_IOCTL_STEP		(1ULL << 62)
#define IKERNEL_IOCTL_STEP_WRITE_BACK	(1ULL << 61)
#define IKERNEL_IOCTL_STEP_ADDR		0x0ffffffffffff000ULL
#define IKERNEL_PAGE_DATA		0
#define IKERNEL_PAGE_UNREADABLE		1
#define IKERNEL_PAGE_CONTINUE		2
#define IKERNEL_PAGE_ABORT		3
#define IKERNEL_REMOTE_PAGES_MAX	4096
#define IKERNEL_WRITE_BACK_HEADER	16

/*
 * IKERNEL_OP_MMAP: map @arg bytes (whole pages) of the file from byte @pos;
 * @cmd is the mapping's protection (PROT_READ, PROT_WRITE, PROT_EXEC bits)
 * and IKERNEL_MMAP_SHARED for a shared mapping.  The reply is one native
 * __u64 per page: the guest-physical frame number of that page of the
 * mapping; the result is the number of pages, or a negative errno.
 */
#define IKERNEL_MMAP_SHARED	0x100

/*
 * IKERNEL_OP_NODE_INFO: what the guest's sysfs says the export's node is,
 * as "KEY=VALUE\n" lines (at most IKERNEL_NODE_INFO_MAX bytes): first
 * SUBSYSTEM=, then DRIVER= if the device is bound, the device's uevent
 * lines, and ATTR{name}=value for its readable attributes.  The result is
 * the text's length.  The host's rules for the text: Documentation/ring.rst.
 */
#define IKERNEL_NODE_INFO_MAX		2048
#define IKERNEL_NODE_INFO_LINES		48	/* lines at most */
#define IKERNEL_NODE_INFO_NAME_MAX	48	/* bytes of a KEY or name */
#define IKERNEL_NODE_INFO_VALUE_MAX	200	/* bytes of a value */

/* struct ikernel_guest_resp.aux for IKERNEL_OP_OPEN. */
#define IKERNEL_OPEN_SEEKABLE	1	/* pread/pwrite/llseek work */

/*
 * struct ikernel_guest_resp.aux for IKERNEL_OP_IOCTL: 0, or
 * IKERNEL_IOCTL_NEW_FILE when the ioctl made a new file and handed its
 * descriptor to the caller.  Bits 0-31 are the new file's handle (as an
 * open's result), 32-47 the byte offset of the int in the argument that
 * holds the descriptor, or IKERNEL_NEW_FILE_IN_RESULT when the ioctl's
 * return value is the descriptor; bit 48 says close-on-exec, 49-50 hold
 * the file's access mode (O_ACCMODE), 51 O_NONBLOCK, 52 seekable.
 */
#define IKERNEL_IOCTL_NEW_FILE		(1ULL << 63)
#define IKERNEL_NEW_FILE_IN_RESULT	0xffff
#define IKERNEL_NEW_FILE_AUX(handle, at, cloexec, accmode, nonblock, seekable) \
	(IKERNEL_IOCTL_NEW_FILE | (__u64)(__u32)(handle) |		\
	 (__u64)((at) & 0xffff) << 32 | (__u64)!!(cloexec) << 48 |	\
	 (__u64)((accmode) & 3) << 49 | (__u64)!!(nonblock) << 51 |	\
	 (__u64)!!(seekable) << 52)

/**
 * struct ikernel_guest_req - IKERNEL_IOC_GUEST_GET argument
 * @id:		request id, to quote in the response
 * @op:		IKERNEL_OP_*
 * @index:	export index (which node)
 * @handle:	the open file, as returned by IKERNEL_OP_OPEN (0 for OPEN)
 * @flags:	the host file's f_flags (O_ACCMODE, O_NONBLOCK, ...)
 * @len:	(out) payload bytes copied to @buf
 * @pos:	file position (read, write, llseek)
 * @cmd:	ioctl command, or llseek whence
 * @reply_max:	largest reply the host accepts (read: bytes wanted)
 * @arg:	ioctl integer argument, llseek offset, or cancelled id
 * @buf:	(in) user buffer for the payload; (out, IKERNEL_GUEST_IN_WINDOW)
 *		the request's buffer in the mapped window, holding the payload
 *		and to hold the reply
 * @buf_size:	(in) its size; IKERNEL_IOC_GUEST_GET fails with E2BIG if the
 *		payload does not fit; (out, IKERNEL_GUEST_IN_WINDOW) the size of
 *		the request's buffer in the window
 * @mode:	(in) 0 or IKERNEL_GUEST_IN_WINDOW
 */
struct ikernel_guest_req {
	__u32 id;
	__u32 op;
	__u32 index;
	__u32 handle;
	__u32 flags;
	__u32 len;
	__u64 pos;
	__u32 cmd;
	__u32 reply_max;
	__u64 arg;
	__u64 buf;
	__u32 buf_size;
	__u32 mode;
};

/*
 * struct ikernel_guest_req.mode: serve the request in place in the window
 * the caller mapped (EINVAL if it has not); its reply is then published
 * without a copy when IKERNEL_IOC_GUEST_PUT names the same buffer.
 */
#define IKERNEL_GUEST_IN_WINDOW	1

/**
 * struct ikernel_guest_resp - IKERNEL_IOC_GUEST_PUT argument
 * @id:		the request's id
 * @len:	reply bytes at @buf, at most the request's reply_max
 * @result:	result, or a negative errno
 * @events:	the file's current poll mask (EPOLL* bits below 1 << 16)
 * @reserved:	zero
 * @aux:	new file position (read, write, llseek), or IKERNEL_OPEN_*
 * @buf:	user buffer holding the reply (the request's own buffer in the
 *		mapped window: no copy)
 */
struct ikernel_guest_resp {
	__u32 id;
	__u32 len;
	__s64 result;
	__u32 events;
	__u32 reserved;
	__u64 aux;
	__u64 buf;
};

/* struct ikernel_guest_event.flags */
/* An answer follows at once: let it notify the host for both. */
#define IKERNEL_EVENT_DEFER	1

/**
 * struct ikernel_guest_event - IKERNEL_IOC_GUEST_EVENT argument
 * @index:	export index
 * @handle:	the open file
 * @events:	its new poll mask
 * @flags:	IKERNEL_EVENT_*
 */
struct ikernel_guest_event {
	__u32 index;
	__u32 handle;
	__u32 events;
	__u32 flags;
};

/* Most exports struct ikernel_guest_exports can describe. */
#define IKERNEL_MAX_EXPORTS	256

/**
 * struct ikernel_guest_exports - IKERNEL_IOC_GUEST_EXPORTS argument
 * @count:	exports the serving process serves (its nodes), at most
 *		IKERNEL_MAX_EXPORTS
 * @reserved:	zero
 * @map:	bit (i % 32) of map[i / 32] set if export i's device node
 *		exists in the driver VM; no bit at or beyond @count
 *
 * The serving process reports which of its exports it can serve, at start
 * and on every change; guest_stub publishes the map in the shared window's
 * header, where the VMM and host_stub read it (for their logs and
 * statistics: calls are forwarded whatever it says).
 */
struct ikernel_guest_exports {
	__u32 count;
	__u32 reserved;
	__u32 map[IKERNEL_MAX_EXPORTS / 32];
};

#define IKERNEL_IOC_GUEST_GET	_IOWR(IKERNEL_IOC_MAGIC, 0x10, struct ikernel_guest_req)
#define IKERNEL_IOC_GUEST_PUT	_IOW(IKERNEL_IOC_MAGIC, 0x11, struct ikernel_guest_resp)
#define IKERNEL_IOC_GUEST_EVENT	_IOW(IKERNEL_IOC_MAGIC, 0x12, struct ikernel_guest_event)
#define IKERNEL_IOC_GUEST_EXPORTS	_IOW(IKERNEL_IOC_MAGIC, 0x13, struct ikernel_guest_exports)

#endif /* _UAPI_LINUX_IKERNEL_H */
