// SPDX-License-Identifier: GPL-2.0
/*
 * ikbuggy: a misc character driver written by a careless author.
 *
 * ikernel's fault tests load it in a driver VM to show that a driver's
 * bugs cost a driver-VM restart and never the host.  Loaded natively it
 * takes the machine down with it: don't.
 *
 * What works: read() returns the message (the greeting, or the text the
 * last write stored), from the file position; IKBUGGY_GET_COUNT returns
 * the number of operations served since load.
 *
 * What does not, on purpose (see ikbuggy.h), each mistake marked
 * "Deliberate bug" below:
 * - IKBUGGY_OOPS reads a configuration nobody allocated: a NULL pointer
 *   dereference;
 * - IKBUGGY_SPIN busy-waits for a ready flag nothing ever sets: an
 *   infinite loop in the kernel that never sleeps;
 * - IKBUGGY_HANG does the same with interrupts off, "to be fast": the
 *   CPU never takes a tick again, and a one-CPU machine hangs;
 * - write() copies the user's whole buffer into the IKBUGGY_MSG_SIZE-byte
 *   buffer it allocates for each message, without a bounds check, and
 *   keeps the length: a long write smashes the slab (the free objects
 *   next to a fresh allocation, with their free-list pointers), and the
 *   next read returns what lies beyond;
 * - panic_on_load=1 panics the kernel in module init.
 * Nothing is locked either: the counter races, and a read during a write
 * can use the freed message buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ikbuggy.h"

static bool panic_on_load;
module_param(panic_on_load, bool, 0444);
MODULE_PARM_DESC(panic_on_load, "Panic the kernel in module init (default: no)");

struct ikbuggy_config {
	u32 flags;
};

/* Meant to be allocated by a probe routine that was never written. */
static struct ikbuggy_config *ikbuggy_cfg;
/* Meant to be set by an interrupt handler that was never written. */
static int ikbuggy_hw_ready;

static char *msg;		/* IKBUGGY_MSG_SIZE bytes */
static size_t msg_len;
static u32 ops;

static ssize_t ikbuggy_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	ops++;
	return simple_read_from_buffer(ubuf, count, ppos, msg, msg_len);
}

static ssize_t ikbuggy_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	long len;

	ops++;
	/* Messages are short: a fresh buffer of IKBUGGY_MSG_SIZE for each. */
	kfree(msg);
	msg_len = 0;
	msg = kmalloc(IKBUGGY_MSG_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	/* Deliberate bug: count is never checked against the buffer size. */
	len = strncpy_from_user(msg, ubuf, count);
	if (len < 0)
		return len;
	msg_len = len;
	return count;
}

static long ikbuggy_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	ops++;
	switch (cmd) {
	case IKBUGGY_GET_COUNT:
		return put_user(ops, (u32 __user *)arg);
	case IKBUGGY_OOPS:
		/* Deliberate bug: ikbuggy_cfg is still NULL. */
		return ikbuggy_cfg->flags;
	case IKBUGGY_SPIN:
		/* Deliberate bug: nothing sets the flag, and this never sleeps. */
		while (!READ_ONCE(ikbuggy_hw_ready))
			cpu_relax();
		return 0;
	case IKBUGGY_HANG:
		/* Deliberate bug: the same wait, with interrupts off. */
		local_irq_disable();
		while (!READ_ONCE(ikbuggy_hw_ready))
			cpu_relax();
		local_irq_enable();
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ikbuggy_fops = {
	.owner		= THIS_MODULE,
	.read		= ikbuggy_read,
	.write		= ikbuggy_write,
	.llseek		= default_llseek,
	.unlocked_ioctl	= ikbuggy_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice ikbuggy_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ikbuggy",
	.fops	= &ikbuggy_fops,
	.mode	= 0666,
};

static int __init ikbuggy_init(void)
{
	int ret;

	/* Deliberate bug: panics where it should fail the load. */
	if (panic_on_load)
		panic("ikbuggy: panic_on_load=1, giving up on the machine\n");

	msg = kmalloc(IKBUGGY_MSG_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	msg_len = sizeof(IKBUGGY_GREETING) - 1;
	memcpy(msg, IKBUGGY_GREETING, msg_len);

	ret = misc_register(&ikbuggy_misc);
	if (ret) {
		kfree(msg);
		return ret;
	}
	pr_info("/dev/%s ready, bugs included\n", ikbuggy_misc.name);
	return 0;
}

static void __exit ikbuggy_exit(void)
{
	misc_deregister(&ikbuggy_misc);
	kfree(msg);
}

module_init(ikbuggy_init);
module_exit(ikbuggy_exit);

MODULE_DESCRIPTION("A deliberately buggy character device (ikernel fault-test sample)");
MODULE_LICENSE("GPL");
