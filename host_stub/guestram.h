/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver VM's RAM as host_stub maps it into host processes
 * (host_stub/guestram.c), called from Rust (host_stub/sys/guestram.rs).
 */
#ifndef IKERNEL_HOST_GUESTRAM_H
#define IKERNEL_HOST_GUESTRAM_H

#include <linux/types.h>

struct file;
struct ikernel_ram;
struct vm_area_struct;

struct ikernel_ram *ikernel_ram_new(void);
void ikernel_ram_free(struct ikernel_ram *ram);
int ikernel_ram_set(struct ikernel_ram *ram, int fd, u64 size, u32 generation);
void ikernel_ram_end(struct ikernel_ram *ram);
u64 ikernel_ram_pages(struct ikernel_ram *ram, u32 generation);
void ikernel_ram_attach(struct ikernel_ram *ram, struct file *file);
int ikernel_ram_mmap(struct ikernel_ram *ram, struct vm_area_struct *vma,
		     u32 generation, const u64 *frames, unsigned long nr);

#endif /* IKERNEL_HOST_GUESTRAM_H */
