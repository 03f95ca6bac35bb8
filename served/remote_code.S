/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The last code of a remote ioctl's child (remote.c), copied into the
 * hole that the host caller's map leaves free; it is never run where it
 * is linked.  It unmaps everything but the hole, maps and registers the
 * caller's ranges, runs the ioctl, writes its result to res_fd and
 * pauses until killed.  %rdi: the struct child_ctx (offsets in remote.c).
 * No stack is used; remote_on_signal runs on the hole's signal stack.
 */
	.section .rodata
	.globl remote_code
	.globl remote_code_end
remote_code:
	mov %rdi, %r15
	mov $11, %eax		/* munmap(0, low_len) */
	xor %edi, %edi
	mov 0(%r15), %rsi
	syscall
	mov $11, %eax		/* munmap(high_start, high_len) */
	mov 8(%r15), %rdi
	mov 16(%r15), %rsi
	syscall
	lea 80(%r15), %r14
	mov 72(%r15), %r13
1:	test %r13, %r13
	jz 2f
	mov $9, %eax		/* mmap(start, len, prot, flags, -1, 0) */
	mov 0(%r14), %rdi
	mov 8(%r14), %rsi
	mov 32(%r14), %rdx
	mov $0x4032, %r10d		/* PRIVATE|ANONYMOUS|FIXED|NORESERVE */
	mov $-1, %r8
	xor %r9d, %r9d
	syscall
	mov $16, %eax		/* ioctl(uffd, UFFDIO_REGISTER, range) */
	mov 24(%r15), %rdi
	mov $0xc020aa00, %esi
	mov %r14, %rdx
	syscall
	add $40, %r14
	dec %r13
	jmp 1b
2:	mov $16, %eax		/* ioctl(fd, cmd, arg) */
	mov 32(%r15), %rdi
	mov 40(%r15), %rsi
	mov 48(%r15), %rdx
remote_ioctl_call:
	syscall
	mov %rax, 64(%r15)
	mov $1, %eax		/* write(res_fd, &result, 8) */
	mov 56(%r15), %rdi
	lea 64(%r15), %rsi
	mov $8, %edx
	syscall
3:	mov $34, %eax		/* pause() */
	syscall
	jmp 3b
	.globl remote_on_signal
remote_on_signal:		/* SIGUSR2 (%rdx: the ucontext) */
	lea remote_ioctl_call(%rip), %rax
	cmp %rax, 168(%rdx)		/* about to restart the ioctl? */
	jne 4f
	movq $-512, 144(%rdx)		/* yes: return -ERESTARTSYS */
	addq $2, 168(%rdx)
4:	ret
	.globl remote_restorer
remote_restorer:
	mov $15, %eax		/* rt_sigreturn() */
	syscall
remote_code_end:

	.section .note.GNU-stack,"",@progbits
