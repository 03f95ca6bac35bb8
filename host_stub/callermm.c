// SPDX-License-Identifier: GPL-2.0
/*
 * The calling process's memory map, for remote ioctls (host_stub/export.rs,
 * Documentation/ring.rst "Remote ioctls"), called from Rust
 * (host_stub/sys.rs): the kernel crate has no VMA iterator.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "callermm.h"

static bool readable(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_READ;
}

/* Appends the run [@start, @end) to @out unless it holds @max already. */
static int put_run(u64 *out, unsigned int max, unsigned int *n, u64 start,
		   u64 end, bool w)
{
	if (*n == max)
		return -E2BIG;
	out[2 * *n] = start;
	out[2 * *n + 1] = end | w;
	(*n)++;
	return 0;
}

/*
 * Writes the current process's readable memory as (start, end) pairs of
 * u64 into @out, at most @max pairs: end has bit 0 set when the memory is
 * writable too; adjacent mappings with the same access are merged.
 * Returns the number of pairs, -E2BIG when more than @max are needed, or
 * -EINTR if a fatal signal came while waiting for the map's lock.
 */
int ikernel_caller_map(u64 *out, unsigned int max)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned int n = 0;
	u64 start = 0, end = 0;
	bool w = false, open = false;
	int ret = 0;

	VMA_ITERATOR(vmi, mm, 0);

	if (!mm)
		return 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for_each_vma(vmi, vma) {
		bool vw = vma->vm_flags & VM_WRITE;

		if (!readable(vma))
			continue;
		if (open && vma->vm_start == end && vw == w) {
			end = vma->vm_end;
			continue;
		}
		if (open) {
			ret = put_run(out, max, &n, start, end, w);
			if (ret)
				break;
		}
		start = vma->vm_start;
		end = vma->vm_end;
		w = vw;
		open = true;
	}
	if (!ret && open)
		ret = put_run(out, max, &n, start, end, w);
	mmap_read_unlock(mm);
	return ret ? ret : n;
}

/*
 * Whether an ioctl argument may hold pointers: whether any of the @n
 * u64 values at @words lies inside a readable mapping of the current
 * process.
 */
bool ikernel_caller_points(const u64 *words, unsigned int n)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool found = false;
	unsigned int i;

	if (!mm || !n)
		return false;
	if (mmap_read_lock_killable(mm))
		return false;
	for (i = 0; i < n && !found; i++) {
		if (words[i] < PAGE_SIZE || words[i] >= TASK_SIZE_MAX)
			continue;
		vma = vma_lookup(mm, words[i]);
		found = vma && readable(vma);
	}
	mmap_read_unlock(mm);
	return found;
}
