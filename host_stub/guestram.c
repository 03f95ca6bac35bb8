// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of an exported node: the driver's pages, which live in the driver
 * VM's RAM, mapped into the host process.
 *
 * The VMM hands host_stub the memfd that backs the driver VM's RAM, once per
 * generation (IKERNEL_IOC_GUEST_RAM).  An mmap of an exported node asks the
 * guest which guest-physical frame backs each page of the range
 * (IKERNEL_OP_MMAP; host_stub/export.rs checks every frame against the RAM's
 * size); the mapping keeps that list, and its fault handler inserts the
 * memfd's page of the frame, under the lock that ends the generation.
 * When the generation ends, every mapping of the channel is unmapped (all
 * the channel's host files share the address_space of one anonymous inode
 * of the channel's own, which is only ever used for that), and faults of a
 * dead generation are SIGBUS: a host process never sees a later
 * incarnation's memory, or any memory that is not the driver VM's RAM.
 *
 * This is C because the kernel crate has no binding of vm_operations_struct
 * or of the fault path, and shmem_read_mapping_page() is an inline
 * function.  What to map is decided in Rust.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "guestram.h"

struct ikernel_ram {
	struct mutex lock;
	struct file *file;	/* the memfd while a generation runs in it */
	u64 pages;
	u32 generation;
	/*
	 * A file on an inode of the channel's own: its i_mapping is the
	 * f_mapping of every host file of the channel, and so holds all
	 * their mappings.
	 */
	struct file *inode_file;
	struct address_space *mapping;
};

/* The inode's file is never read or written: it only holds the inode. */
static const struct file_operations ikernel_ram_inode_fops;

/* One mapping (and its splits and fork copies, which share it). */
struct ikernel_vmap {
	refcount_t refs;
	struct ikernel_ram *ram;	/* outlives it: the vma pins the file */
	u32 generation;
	pgoff_t pgoff;			/* the file offset of frames[0] */
	unsigned long nr;
	u64 frames[];
};

struct ikernel_ram *ikernel_ram_new(void)
{
	struct ikernel_ram *ram = kzalloc(sizeof(*ram), GFP_KERNEL);
	struct file *f;

	if (!ram)
		return NULL;
	f = anon_inode_create_getfile("ikernel-ram", &ikernel_ram_inode_fops,
				      NULL, O_RDONLY, NULL);
	if (IS_ERR(f)) {
		kfree(ram);
		return NULL;
	}
	mutex_init(&ram->lock);
	ram->inode_file = f;
	ram->mapping = file_inode(f)->i_mapping;
	return ram;
}

/* Ends the generation first; every host file of the channel is closed. */
void ikernel_ram_free(struct ikernel_ram *ram)
{
	ikernel_ram_end(ram);
	fput(ram->inode_file);
	mutex_destroy(&ram->lock);
	kfree(ram);
}

int ikernel_ram_set(struct ikernel_ram *ram, int fd, u64 size, u32 generation)
{
	struct file *file, *old;

	if (!size || !PAGE_ALIGNED(size))
		return -EINVAL;
	file = fget(fd);
	if (!file)
		return -EBADF;
	if (!shmem_mapping(file->f_mapping) ||
	    i_size_read(file_inode(file)) < size) {
		fput(file);
		return -EINVAL;
	}
	mutex_lock(&ram->lock);
	old = ram->file;
	ram->file = file;
	ram->pages = size >> PAGE_SHIFT;
	ram->generation = generation;
	mutex_unlock(&ram->lock);
	if (old) {
		unmap_mapping_range(ram->mapping, 0, 0, 1);
		fput(old);
	}
	return 0;
}

/*
 * The generation is over: no fault maps a page from here on, and the pages
 * mapped so far are unmapped.  A fault that took its page before the lock
 * was taken here has inserted it before too, so the unmapping gets it.
 */
void ikernel_ram_end(struct ikernel_ram *ram)
{
	struct file *old;

	mutex_lock(&ram->lock);
	old = ram->file;
	ram->file = NULL;
	ram->pages = 0;
	mutex_unlock(&ram->lock);
	unmap_mapping_range(ram->mapping, 0, 0, 1);
	if (old)
		fput(old);
}

u64 ikernel_ram_pages(struct ikernel_ram *ram, u32 generation)
{
	u64 pages;

	mutex_lock(&ram->lock);
	pages = ram->file && ram->generation == generation ? ram->pages : 0;
	mutex_unlock(&ram->lock);
	return pages;
}

/* Before the file can be mapped: at its open, or before fd_install(). */
void ikernel_ram_attach(struct ikernel_ram *ram, struct file *file)
{
	file->f_mapping = ram->mapping;
}

static void ikernel_vmap_open(struct vm_area_struct *vma)
{
	struct ikernel_vmap *m = vma->vm_private_data;

	refcount_inc(&m->refs);
}

static void ikernel_vmap_close(struct vm_area_struct *vma)
{
	struct ikernel_vmap *m = vma->vm_private_data;

	if (refcount_dec_and_test(&m->refs))
		kvfree(m);
}

static vm_fault_t ikernel_vmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ikernel_vmap *m = vma->vm_private_data;
	struct ikernel_ram *ram = m->ram;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	struct page *page;
	u64 frame;
	int err;

	if (vmf->pgoff < m->pgoff || vmf->pgoff - m->pgoff >= m->nr)
		return VM_FAULT_SIGBUS;
	frame = m->frames[vmf->pgoff - m->pgoff];
	mutex_lock(&ram->lock);
	if (ram->file && ram->generation == m->generation &&
	    frame < ram->pages) {
		page = shmem_read_mapping_page(ram->file->f_mapping, frame);
		if (IS_ERR(page)) {
			ret = vmf_error(PTR_ERR(page));
		} else {
			err = vm_insert_page(vma, vmf->address & PAGE_MASK, page);
			put_page(page);
			/* -EBUSY: another thread mapped it first. */
			ret = !err || err == -EBUSY ? VM_FAULT_NOPAGE :
				vmf_error(err);
		}
	}
	mutex_unlock(&ram->lock);
	return ret;
}

static const struct vm_operations_struct ikernel_vmap_ops = {
	.open = ikernel_vmap_open,
	.close = ikernel_vmap_close,
	.fault = ikernel_vmap_fault,
};

/*
 * Sets up @vma (in its file's mmap handler) to map @frames, one per page
 * from its start, of generation @generation.  -EIO if that generation is
 * no longer the one running.
 */
int ikernel_ram_mmap(struct ikernel_ram *ram, struct vm_area_struct *vma,
		     u32 generation, const u64 *frames, unsigned long nr)
{
	struct ikernel_vmap *m;

	if (nr != vma_pages(vma))
		return -EINVAL;
	/*
	 * The generation may still end after this check: then the unmapping
	 * that ends it finds nothing yet and the faults find it over.
	 */
	if (!ikernel_ram_pages(ram, generation))
		return -EIO;
	m = kvmalloc(struct_size(m, frames, nr), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	refcount_set(&m->refs, 1);
	m->ram = ram;
	m->generation = generation;
	m->pgoff = vma->vm_pgoff;
	m->nr = nr;
	memcpy(m->frames, frames, nr * sizeof(*frames));
	/* Pages are inserted by the fault handler (vm_insert_page). */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = m;
	vma->vm_ops = &ikernel_vmap_ops;
	return 0;
}
