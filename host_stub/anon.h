/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Anonymous files for ikernel's host stub (host_stub/anon.c), called from
 * Rust (host_stub/sys/cdev.rs).
 */
#ifndef IKERNEL_HOST_ANON_H
#define IKERNEL_HOST_ANON_H

struct file;
struct file_operations;

struct file *ikernel_anon_getfile(const struct file_operations *fops,
				  void *priv, int flags);

#endif /* IKERNEL_HOST_ANON_H */
