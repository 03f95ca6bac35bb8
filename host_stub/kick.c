// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-up callbacks on an eventfd, for ikernel's host stub.
 *
 * A driver VM rings its doorbell with a port write that KVM turns into a
 * signal on an eventfd (ioeventfd).  host_stub needs to react to that signal
 * inside the kernel, the way vhost reacts to its kick eventfds: with a custom
 * wait-queue entry on the eventfd.  The poll API it takes (vfs_poll,
 * init_poll_funcptr, init_waitqueue_func_entry) is inline, so Rust reaches
 * it through these three functions.
 */
#include <linux/err.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "kick.h"

struct ikernel_kick {
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	struct file *file;
	void (*fn)(void *data);
	void *data;
};

/* Called with the eventfd's wait-queue lock held, interrupts off. */
static int ikernel_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
			     int sync, void *key)
{
	struct ikernel_kick *k = container_of(wait, struct ikernel_kick, wait);

	if (key_to_poll(key) & EPOLLIN)
		k->fn(k->data);
	return 0;
}

static void ikernel_kick_queue(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct ikernel_kick *k = container_of(pt, struct ikernel_kick, pt);

	k->wqh = wqh;
	add_wait_queue(wqh, &k->wait);
}

/**
 * ikernel_kick_attach - call @fn(@data) whenever the eventfd @fd is signalled
 * @fd:   an eventfd of the current process
 * @fn:   callback; runs in atomic context, must not sleep
 * @data: its argument, valid until ikernel_kick_detach() returns
 *
 * Return: a handle for ikernel_kick_detach(), or an ERR_PTR: -EBADF if @fd
 * is not open, -EINVAL if it is not an eventfd, -ENOMEM.
 */
struct ikernel_kick *ikernel_kick_attach(int fd, void (*fn)(void *data),
					 void *data)
{
	struct ikernel_kick *k;
	struct file *file;
	__poll_t mask;

	file = eventfd_fget(fd);
	if (IS_ERR(file))
		return ERR_CAST(file);
	k = kzalloc_obj(*k, GFP_KERNEL);
	if (!k) {
		fput(file);
		return ERR_PTR(-ENOMEM);
	}
	k->file = file;
	k->fn = fn;
	k->data = data;
	init_waitqueue_func_entry(&k->wait, ikernel_kick_wake);
	init_poll_funcptr(&k->pt, ikernel_kick_queue);
	mask = vfs_poll(file, &k->pt);
	/* A signal that came before we were queued is not lost. */
	if (mask & EPOLLIN)
		fn(data);
	return k;
}

/**
 * ikernel_kick_detach - stop calling back and drop the eventfd
 * @k: a handle from ikernel_kick_attach()
 *
 * Once this returns the callback is not running and will not run again:
 * callbacks run under the wait-queue lock that remove_wait_queue() takes.
 */
void ikernel_kick_detach(struct ikernel_kick *k)
{
	if (k->wqh)
		remove_wait_queue(k->wqh, &k->wait);
	fput(k->file);
	kfree(k);
}
