/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host_stub's module parameters: the Rust side of params.c's callbacks
 * (host_main.rs), which checks and stores every value.
 */
#ifndef IKERNEL_HOST_PARAMS_H
#define IKERNEL_HOST_PARAMS_H

#include <linux/types.h>

int ikernel_host_param_set_poll_max_us(unsigned int us);
unsigned int ikernel_host_param_poll_max_us(void);
void ikernel_host_param_set_direct_copy(bool on);
bool ikernel_host_param_direct_copy(void);

#endif /* IKERNEL_HOST_PARAMS_H */
