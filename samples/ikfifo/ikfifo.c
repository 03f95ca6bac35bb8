// SPDX-License-Identifier: GPL-2.0
/*
 * ikfifo: one small FIFO shared by every opener of /dev/ikfifo.
 *
 * A deliberately ordinary character driver, written the way drivers were
 * written before anyone thought of isolating them: a misc device, one
 * buffer under a mutex, two wait queues, and nothing but the usual file
 * operations.  ikernel runs it unchanged both natively and inside a
 * driver VM behind its forwarding proxy, and compares the two.
 *
 * - read() blocks until at least one byte is buffered and returns what is
 *   there, up to count; write() blocks while the FIFO is full and writes
 *   what fits, except that a write of up to IKFIFO_ATOMIC_MAX bytes waits
 *   until it fits entirely.  O_NONBLOCK turns both waits into -EAGAIN.
 * - The file position counts the bytes moved through that open file.
 * - Each open file has a 64-bit tag (see ikfifo.h for the ioctls).
 * - Two ioctls hand out "peek" files, as a descriptor in a struct or as
 *   the return value: the way real drivers hand out line, event or buffer
 *   files (gpio line requests, DRM, KVM).
 * - mmap() maps a small shared area of driver memory that two ioctls read
 *   and write from the driver's side, as drivers share ring buffers or
 *   status pages with user space.
 * - Two ioctls take arguments that hold pointers to more user memory: a
 *   batch of messages, each with a buffer of its own (as i2c-dev's
 *   I2C_RDWR), and a linked list of nodes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "ikfifo.h"

#define IKFIFO_MIN_CAPACITY	IKFIFO_ATOMIC_MAX
#define IKFIFO_MAX_CAPACITY	(1U << 20)

static unsigned int capacity = 4096;
module_param(capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "FIFO size in bytes (64 to 1048576, default 4096)");

struct ikfifo {
	struct mutex lock;		/* protects everything below */
	wait_queue_head_t readq;	/* readers waiting for data */
	wait_queue_head_t writeq;	/* writers waiting for space */
	u8 *buf;
	u32 capacity;
	u32 head;			/* index of the oldest byte */
	u32 used;			/* bytes buffered */
	u64 bytes_read;
	u64 bytes_written;
	u8 *shm;			/* the shared area (vmalloc_user) */
};

#define IKFIFO_SHM_SIZE		(IKFIFO_SHM_PAGES * PAGE_SIZE)

static struct ikfifo ikfifo;

/* Per open file. */
struct ikfifo_file {
	struct mutex tag_lock;		/* makes IKFIFO_XCHG_TAG atomic */
	u64 tag;
};

/* A node's or a peek file's state, with tag @tag; NULL without memory. */
static struct ikfifo_file *ikfifo_file_new(u64 tag)
{
	struct ikfifo_file *priv = kzalloc_obj(*priv);

	if (priv) {
		mutex_init(&priv->tag_lock);
		priv->tag = tag;
	}
	return priv;
}

static void ikfifo_file_free(struct ikfifo_file *priv)
{
	mutex_destroy(&priv->tag_lock);
	kfree(priv);
}

static int ikfifo_open(struct inode *inode, struct file *file)
{
	struct ikfifo_file *priv = ikfifo_file_new(0);

	if (!priv)
		return -ENOMEM;
	file->private_data = priv;
	return 0;
}

static int ikfifo_release(struct inode *inode, struct file *file)
{
	ikfifo_file_free(file->private_data);
	return 0;
}

/*
 * Locks the FIFO once it holds data: 0 with f->lock held, or -EAGAIN (for
 * a non-blocking file) or -ERESTARTSYS without it.
 */
static int ikfifo_lock_data(struct ikfifo *f, struct file *file)
{
	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	while (!f->used) {
		mutex_unlock(&f->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(f->readq, READ_ONCE(f->used)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&f->lock))
			return -ERESTARTSYS;
	}
	return 0;
}

/*
 * Copies the oldest bytes, up to count, to ubuf with f->lock held: the
 * number copied, or -EFAULT (and then the caller must consume nothing).
 */
static ssize_t ikfifo_copy_oldest(struct ikfifo *f, char __user *ubuf,
				  size_t count)
{
	size_t n = min_t(size_t, count, f->used);
	size_t first = min_t(size_t, n, f->capacity - f->head);

	if (copy_to_user(ubuf, f->buf + f->head, first) ||
	    copy_to_user(ubuf + first, f->buf, n - first))
		return -EFAULT;
	return n;
}

/*
 * Reads the oldest bytes, up to count: consumed (the node's read) or left
 * in the FIFO (a peek file's).  On a fault nothing is consumed.
 */
static ssize_t ikfifo_take(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos, bool consume)
{
	struct ikfifo *f = &ikfifo;
	ssize_t ret;

	if (!count)
		return 0;

	ret = ikfifo_lock_data(f, file);
	if (ret)
		return ret;
	ret = ikfifo_copy_oldest(f, ubuf, count);
	if (ret > 0 && consume) {
		f->head = (f->head + ret) % f->capacity;
		WRITE_ONCE(f->used, f->used - ret);
		f->bytes_read += ret;
		*ppos += ret;
		wake_up_interruptible(&f->writeq);
	}
	mutex_unlock(&f->lock);
	return ret;
}

static ssize_t ikfifo_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	return ikfifo_take(file, ubuf, count, ppos, true);
}

/* Bytes of space a write of count bytes must find before it may start. */
static size_t ikfifo_space_needed(size_t count)
{
	return count <= IKFIFO_ATOMIC_MAX ? count : 1;
}

static ssize_t ikfifo_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct ikfifo *f = &ikfifo;
	size_t need = ikfifo_space_needed(count);
	size_t n, first, tail;
	ssize_t ret;

	if (!count)
		return 0;

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	while (f->capacity - f->used < need) {
		mutex_unlock(&f->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(f->writeq,
					     f->capacity - READ_ONCE(f->used) >= need))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&f->lock))
			return -ERESTARTSYS;
	}

	n = min_t(size_t, count, f->capacity - f->used);
	tail = (f->head + f->used) % f->capacity;
	first = min_t(size_t, n, f->capacity - tail);
	/* On a fault nothing is committed. */
	if (copy_from_user(f->buf + tail, ubuf, first) ||
	    copy_from_user(f->buf, ubuf + first, n - first)) {
		ret = -EFAULT;
		goto out;
	}
	WRITE_ONCE(f->used, f->used + n);
	f->bytes_written += n;
	*ppos += n;
	ret = n;
	wake_up_interruptible(&f->readq);
out:
	mutex_unlock(&f->lock);
	return ret;
}

static __poll_t ikfifo_poll(struct file *file, poll_table *wait)
{
	struct ikfifo *f = &ikfifo;
	__poll_t mask = 0;
	u32 used;

	poll_wait(file, &f->readq, wait);
	poll_wait(file, &f->writeq, wait);

	used = READ_ONCE(f->used);
	if (used)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (used < f->capacity)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static long ikfifo_get_stats(struct ikfifo *f, void __user *argp)
{
	struct ikfifo_stats st = {};

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	st.capacity = f->capacity;
	st.used = f->used;
	st.bytes_read = f->bytes_read;
	st.bytes_written = f->bytes_written;
	mutex_unlock(&f->lock);

	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long ikfifo_xchg_tag(struct ikfifo_file *priv, u64 __user *argp)
{
	u64 tag;
	long ret = 0;

	/* Both user accesses under the lock: a fault leaves the tag alone. */
	if (mutex_lock_interruptible(&priv->tag_lock))
		return -ERESTARTSYS;
	if (get_user(tag, argp) || put_user(priv->tag, argp))
		ret = -EFAULT;
	else
		priv->tag = tag;
	mutex_unlock(&priv->tag_lock);
	return ret;
}

static long ikfifo_clear(struct ikfifo *f)
{
	long discarded;

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	discarded = f->used;
	f->head = 0;
	WRITE_ONCE(f->used, 0);
	wake_up_interruptible(&f->writeq);
	mutex_unlock(&f->lock);
	return discarded;
}

static const struct file_operations ikfifo_peek_fops;

/* A new peek file with tag @tag, not yet installed; its descriptor in *fdp. */
static struct file *ikfifo_new_peek(u64 tag, u32 flags, int *fdp)
{
	struct ikfifo_file *priv;
	struct file *file;
	int fd;

	if (flags & ~IKFIFO_PEEK_FLAGS)
		return ERR_PTR(-EINVAL);
	priv = ikfifo_file_new(tag);
	if (!priv)
		return ERR_PTR(-ENOMEM);
	fd = get_unused_fd_flags(flags & IKFIFO_PEEK_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		ikfifo_file_free(priv);
		return ERR_PTR(fd);
	}
	file = anon_inode_getfile("ikfifo-peek", &ikfifo_peek_fops, priv,
				  O_RDONLY |
				  (flags & IKFIFO_PEEK_NONBLOCK ? O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ikfifo_file_free(priv);
		return file;
	}
	*fdp = fd;
	return file;
}

/* IKFIFO_NEW_PEEK: the descriptor goes back in the argument. */
static long ikfifo_new_peek_ioctl(struct ikfifo_peek __user *argp)
{
	struct ikfifo_peek req;
	struct file *file;
	int fd;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	file = ikfifo_new_peek(req.tag, req.flags, &fd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	req.fd = fd;
	/* Installed only once the caller can learn its number. */
	if (copy_to_user(argp, &req, sizeof(req))) {
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}

/* IKFIFO_PEEK_FD: the descriptor is the return value. */
static long ikfifo_peek_fd_ioctl(unsigned long flags)
{
	struct file *file;
	int fd;

	file = ikfifo_new_peek(0, flags, &fd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	fd_install(fd, file);
	return fd;
}

/*
 * IKFIFO_SHM_READ and IKFIFO_SHM_WRITE.  The area is shared with every
 * mapping: no lock makes the copy atomic against a process writing its
 * mapping meanwhile, as for any shared memory.
 */
static long ikfifo_shm_io(struct ikfifo *f, unsigned int cmd,
			  struct ikfifo_shm_io __user *argp)
{
	struct ikfifo_shm_io io;
	size_t head = offsetof(struct ikfifo_shm_io, data);

	if (copy_from_user(&io, argp, cmd == IKFIFO_SHM_WRITE ? sizeof(io) : head))
		return -EFAULT;
	if (io.len > IKFIFO_SHM_IO_MAX || io.offset > IKFIFO_SHM_SIZE ||
	    io.len > IKFIFO_SHM_SIZE - io.offset)
		return -EINVAL;
	if (cmd == IKFIFO_SHM_WRITE) {
		memcpy(f->shm + io.offset, io.data, io.len);
		return 0;
	}
	memcpy(io.data, f->shm + io.offset, io.len);
	if (copy_to_user(argp->data, io.data, io.len))
		return -EFAULT;
	return 0;
}

/*
 * Takes up to @len bytes out of the FIFO into @ubuf for IKFIFO_XFER,
 * waiting as read() does while it is empty.  The bytes that reached @ubuf
 * are consumed and counted in *@moved, the others stay: -EFAULT if some
 * did not.  -EAGAIN or -ERESTARTSYS only before anything moved.
 */
static int ikfifo_xfer_take(struct ikfifo *f, struct file *file,
			    char __user *ubuf, u32 len, u32 *moved)
{
	size_t want, first, copied;
	int ret;

	*moved = 0;
	if (!len)
		return 0;
	ret = ikfifo_lock_data(f, file);
	if (ret)
		return ret;
	want = min_t(size_t, len, f->used);
	first = min_t(size_t, want, f->capacity - f->head);
	copied = first - copy_to_user(ubuf, f->buf + f->head, first);
	if (copied == first)
		copied += want - first -
			  copy_to_user(ubuf + first, f->buf, want - first);
	if (copied) {
		f->head = (f->head + copied) % f->capacity;
		WRITE_ONCE(f->used, f->used - copied);
		f->bytes_read += copied;
		wake_up_interruptible(&f->writeq);
	}
	mutex_unlock(&f->lock);
	*moved = copied;
	return copied < want ? -EFAULT : 0;
}

/*
 * Appends up to @len bytes of @ubuf, no more than the free space, with
 * f->lock held; the caller wakes the readers.  The bytes copied before a
 * fault are appended and counted in *@moved: -EFAULT if that is not all.
 */
static int ikfifo_append_locked(struct ikfifo *f, const char __user *ubuf,
				u32 len, u32 *moved)
{
	size_t want = min_t(size_t, len, f->capacity - f->used);
	size_t tail = (f->head + f->used) % f->capacity;
	size_t first = min_t(size_t, want, f->capacity - tail);
	size_t copied;

	copied = first - copy_from_user(f->buf + tail, ubuf, first);
	if (copied == first)
		copied += want - first -
			  copy_from_user(f->buf, ubuf + first, want - first);
	WRITE_ONCE(f->used, f->used + copied);
	f->bytes_written += copied;
	*moved = copied;
	return copied < want ? -EFAULT : 0;
}

/* An IKFIFO_XFER write message; -ERESTARTSYS only before anything moved. */
static int ikfifo_xfer_append(struct ikfifo *f, const char __user *ubuf,
			      u32 len, u32 *moved)
{
	int ret;

	*moved = 0;
	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	ret = ikfifo_append_locked(f, ubuf, len, moved);
	if (*moved)
		wake_up_interruptible(&f->readq);
	mutex_unlock(&f->lock);
	return ret;
}

/*
 * IKFIFO_XFER: the messages run one by one, each under the lock on its
 * own, so that a read message can wait for a writer.
 */
static long ikfifo_xfer(struct ikfifo *f, struct file *file,
			struct ikfifo_xfer __user *argp)
{
	struct ikfifo_msg __user *umsgs;
	struct ikfifo_msg *msgs;
	struct ikfifo_xfer xfer;
	u32 i, moved;
	long ret = 0;

	if (copy_from_user(&xfer, argp, sizeof(xfer)))
		return -EFAULT;
	if (!xfer.nmsgs || xfer.nmsgs > IKFIFO_XFER_MAX)
		return -EINVAL;
	umsgs = u64_to_user_ptr(xfer.msgs);
	msgs = memdup_array_user(umsgs, xfer.nmsgs, sizeof(*msgs));
	if (IS_ERR(msgs))
		return PTR_ERR(msgs);

	for (i = 0; i < xfer.nmsgs; i++) {
		void __user *ubuf = u64_to_user_ptr(msgs[i].buf);

		if (msgs[i].flags & IKFIFO_MSG_READ)
			ret = ikfifo_xfer_take(f, file, ubuf, msgs[i].len,
					       &moved);
		else
			ret = ikfifo_xfer_append(f, ubuf, msgs[i].len, &moved);
		/* Nothing moved: the message's done stays as it was. */
		if (ret == -EAGAIN || ret == -ERESTARTSYS)
			break;
		if (put_user(moved, &umsgs[i].done))
			ret = -EFAULT;
		if (ret)
			break;
	}
	kfree(msgs);
	/* A restart would run the completed messages once more. */
	if (ret == -ERESTARTSYS && i)
		ret = -EINTR;
	if (put_user(i, &argp->nr_done))
		ret = -EFAULT;
	return ret;
}

/*
 * IKFIFO_CHAIN: under the lock throughout, so that no other write comes
 * between two nodes.
 */
static long ikfifo_chain(struct ikfifo *f, struct ikfifo_chain __user *argp)
{
	struct ikfifo_node __user *unode;
	struct ikfifo_node node;
	u32 count = 0, moved;
	bool appended = false;
	u64 head;
	long ret = 0;

	if (get_user(head, &argp->head))
		return -EFAULT;
	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	for (unode = u64_to_user_ptr(head); unode;
	     unode = u64_to_user_ptr(node.next)) {
		if (count == IKFIFO_CHAIN_MAX) {
			ret = -E2BIG;
			break;
		}
		if (copy_from_user(&node, unode, sizeof(node))) {
			ret = -EFAULT;
			break;
		}
		ret = ikfifo_append_locked(f, u64_to_user_ptr(node.buf),
					   node.len, &moved);
		if (moved)
			appended = true;
		if (put_user(moved, &unode->done))
			ret = -EFAULT;
		if (ret)
			break;
		count++;
	}
	if (appended)
		wake_up_interruptible(&f->readq);
	mutex_unlock(&f->lock);
	if (put_user(count, &argp->count))
		ret = -EFAULT;
	return ret;
}

/* The shared area, from file offset 0; no more than it holds. */
static int ikfifo_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff >= IKFIFO_SHM_PAGES ||
	    vma_pages(vma) > IKFIFO_SHM_PAGES - vma->vm_pgoff)
		return -EINVAL;
	return remap_vmalloc_range(vma, ikfifo.shm, vma->vm_pgoff);
}

static long ikfifo_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct ikfifo_file *priv = file->private_data;
	void __user *argp = (void __user *)arg;
	struct ikfifo *f = &ikfifo;
	u64 tag;

	switch (cmd) {
	case IKFIFO_GET_STATS:
		return ikfifo_get_stats(f, argp);
	case IKFIFO_SET_TAG:
		if (get_user(tag, (u64 __user *)argp))
			return -EFAULT;
		if (mutex_lock_interruptible(&priv->tag_lock))
			return -ERESTARTSYS;
		priv->tag = tag;
		mutex_unlock(&priv->tag_lock);
		return 0;
	case IKFIFO_XCHG_TAG:
		return ikfifo_xchg_tag(priv, argp);
	case IKFIFO_CLEAR:
		if (arg)
			return -EINVAL;
		return ikfifo_clear(f);
	case IKFIFO_LEGACY_GET_CAP:
		return put_user(f->capacity, (u32 __user *)argp);
	case IKFIFO_NEW_PEEK:
		return ikfifo_new_peek_ioctl(argp);
	case IKFIFO_PEEK_FD:
		return ikfifo_peek_fd_ioctl(arg);
	case IKFIFO_SHM_READ:
	case IKFIFO_SHM_WRITE:
		return ikfifo_shm_io(f, cmd, argp);
	case IKFIFO_XFER:
		return ikfifo_xfer(f, file, argp);
	case IKFIFO_CHAIN:
		return ikfifo_chain(f, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ikfifo_fops = {
	.owner		= THIS_MODULE,
	.open		= ikfifo_open,
	.release	= ikfifo_release,
	.read		= ikfifo_read,
	.write		= ikfifo_write,
	.llseek		= no_seek_end_llseek,
	.poll		= ikfifo_poll,
	.unlocked_ioctl	= ikfifo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= ikfifo_mmap,
};

/* A peek file's read: the oldest bytes, left in the FIFO. */
static ssize_t ikfifo_peek_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	return ikfifo_take(file, ubuf, count, ppos, false);
}

static __poll_t ikfifo_peek_poll(struct file *file, poll_table *wait)
{
	struct ikfifo *f = &ikfifo;

	poll_wait(file, &f->readq, wait);
	return READ_ONCE(f->used) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations ikfifo_peek_fops = {
	.owner		= THIS_MODULE,
	.release	= ikfifo_release,
	.read		= ikfifo_peek_read,
	.poll		= ikfifo_peek_poll,
	.unlocked_ioctl	= ikfifo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/*
 * The device's sysfs attributes, as tools read them to learn what a node
 * is: its size and how full it is.
 */
static ssize_t capacity_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", ikfifo.capacity);
}
static DEVICE_ATTR_RO(capacity);

static ssize_t used_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ikfifo.used));
}
static DEVICE_ATTR_RO(used);

static struct attribute *ikfifo_attrs[] = {
	&dev_attr_capacity.attr,
	&dev_attr_used.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ikfifo);

static struct miscdevice ikfifo_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ikfifo",
	.fops	= &ikfifo_fops,
	.mode	= 0666,
	.groups	= ikfifo_groups,
};

static int __init ikfifo_init(void)
{
	struct ikfifo *f = &ikfifo;
	int ret;

	if (capacity < IKFIFO_MIN_CAPACITY || capacity > IKFIFO_MAX_CAPACITY) {
		pr_err("capacity %u is outside [%u, %u]\n", capacity,
		       IKFIFO_MIN_CAPACITY, IKFIFO_MAX_CAPACITY);
		return -EINVAL;
	}

	mutex_init(&f->lock);
	init_waitqueue_head(&f->readq);
	init_waitqueue_head(&f->writeq);
	f->buf = kvmalloc(capacity, GFP_KERNEL);
	if (!f->buf)
		return -ENOMEM;
	f->capacity = capacity;
	f->shm = vmalloc_user(IKFIFO_SHM_SIZE);
	if (!f->shm) {
		kvfree(f->buf);
		return -ENOMEM;
	}

	ret = misc_register(&ikfifo_misc);
	if (ret) {
		vfree(f->shm);
		kvfree(f->buf);
		return ret;
	}
	pr_info("/dev/%s: %u byte FIFO\n", ikfifo_misc.name, f->capacity);
	return 0;
}

static void __exit ikfifo_exit(void)
{
	misc_deregister(&ikfifo_misc);
	vfree(ikfifo.shm);
	kvfree(ikfifo.buf);
	mutex_destroy(&ikfifo.lock);
}

module_init(ikfifo_init);
module_exit(ikfifo_exit);

MODULE_DESCRIPTION("A small shared FIFO character device (ikernel sample)");
MODULE_LICENSE("GPL");
