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

/**
 * struct ikernel_window - IKERNEL_IOC_CREATE_WINDOW argument
 * @size:	window size in bytes (in); a multiple of 4096
 * @ring_entries: entries per ring (in); a power of two, 0 for the default
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
 * @reserved:	zero
 */
struct ikernel_state {
	__u32 state;
	__u32 generation;
	__u32 guest_state;
	__u32 heartbeat;
	__u64 kicks;
	__u64 reserved;
};

#define IKERNEL_IOC_CREATE_WINDOW	_IOW(IKERNEL_IOC_MAGIC, 0x01, struct ikernel_window)
#define IKERNEL_IOC_BIND_DOORBELLS	_IOW(IKERNEL_IOC_MAGIC, 0x02, struct ikernel_doorbells)
#define IKERNEL_IOC_SET_STATE		_IOW(IKERNEL_IOC_MAGIC, 0x03, struct ikernel_state)
#define IKERNEL_IOC_GET_STATE		_IOR(IKERNEL_IOC_MAGIC, 0x04, struct ikernel_state)

#endif /* _UAPI_LINUX_IKERNEL_H */
