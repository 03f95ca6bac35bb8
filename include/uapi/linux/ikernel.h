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

#endif /* _UAPI_LINUX_IKERNEL_H */
