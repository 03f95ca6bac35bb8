// SPDX-License-Identifier: GPL-2.0
/*
 * host_stub's tunables as module parameters, in
 * /sys/module/ikernel_host/parameters/ and settable at load time
 * (modprobe ikernel_host poll_max_us=0, or modprobe.d).
 *
 * The kernel crate's module parameters are read-only once loaded and have
 * no sysfs file, so these are declared here with module_param_cb(); the
 * values live in the Rust code, which checks every value it is given
 * (host_main.rs: ikernel_host_param_*).  Load-time values are set before
 * the module's init runs; the Rust side only stores atomics then.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "params.h"

static int poll_max_us_set(const char *val, const struct kernel_param *kp)
{
	unsigned int us;
	int ret = kstrtouint(val, 10, &us);

	if (ret)
		return ret;
	return ikernel_host_param_set_poll_max_us(us);
}

static int poll_max_us_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ikernel_host_param_poll_max_us());
}

static const struct kernel_param_ops poll_max_us_ops = {
	.set = poll_max_us_set,
	.get = poll_max_us_get,
};
module_param_cb(poll_max_us, &poll_max_us_ops, NULL, 0644);
MODULE_PARM_DESC(poll_max_us,
		 "Longest a caller or the drain work polls the ring for answers before sleeping, in microseconds (0: never poll)");

static int direct_copy_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	ikernel_host_param_set_direct_copy(on);
	return 0;
}

static int direct_copy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", ikernel_host_param_direct_copy());
}

static const struct kernel_param_ops direct_copy_ops = {
	.set = direct_copy_set,
	.get = direct_copy_get,
};
module_param_cb(direct_copy, &direct_copy_ops, NULL, 0644);
MODULE_PARM_DESC(direct_copy,
		 "Copy bulk data straight between user memory and the window (1, default) or always through a kernel buffer (0)");
