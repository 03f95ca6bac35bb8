// SPDX-License-Identifier: GPL-2.0
/*
 * Anonymous files for ikernel's host stub, called from Rust
 * (host_stub/sys/cdev.rs, AnonFops): the kernel crate has no binding of
 * anon_inode_getfile().  The files a forwarded ioctl makes in the driver VM
 * appear on the host as these.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>

#include "anon.h"

struct file *ikernel_anon_getfile(const struct file_operations *fops,
				  void *priv, int flags)
{
	return anon_inode_getfile("ikernel", fops, priv, flags);
}
