// SPDX-License-Identifier: GPL-2.0

//! The kernel's side of the control devices' ABI (`ring::uapi`).
//!
//! `ring/src/uapi.rs` defines the structs, ioctl numbers and limits of
//! `include/uapi/linux/ikernel.h` with `core` only; this file adds what needs
//! the kernel crate: the byte-conversion traits that let the structs be
//! copied from and to user space, and a check of its ioctl encoding against
//! the kernel's own `_IOR`/`_IOW`/`_IOWR` for the architecture being built.

use kernel::{
    ioctl::{
        _IOR,
        _IOW,
        _IOWR, //
    },
    transmute::{
        AsBytes,
        FromBytes, //
    },
};

use crate::ring::uapi::*;

// SAFETY: Each is a `repr(C)` struct of integers and integer arrays with no
// padding (`ring/src/uapi.rs` asserts every size and offset at compile
// time), so every bit pattern is a valid value and every byte is
// initialised.
unsafe impl FromBytes for Version {}
// SAFETY: See `Version` above.
unsafe impl AsBytes for Version {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for WindowArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for DoorbellsArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for StateArg {}
// SAFETY: See `Version` above.
unsafe impl AsBytes for StateArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for GuestRamArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for IoctlDescArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for ExportArg {}
// SAFETY: See `Version` above.
unsafe impl AsBytes for ExportArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for ExportNetArg {}
// SAFETY: See `Version` above.
unsafe impl AsBytes for ExportNetArg {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for GuestReq {}
// SAFETY: See `Version` above.
unsafe impl AsBytes for GuestReq {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for GuestResp {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for GuestEvent {}
// SAFETY: See `Version` above.
unsafe impl FromBytes for GuestExports {}

// The ring's `_IOC` encoding is the kernel's on this architecture.
const _: () = {
    assert!(IOC_VERSION == _IOR::<Version>(IOC_MAGIC, 0x00));
    assert!(IOC_CREATE_WINDOW == _IOW::<WindowArg>(IOC_MAGIC, 0x01));
    assert!(IOC_BIND_DOORBELLS == _IOW::<DoorbellsArg>(IOC_MAGIC, 0x02));
    assert!(IOC_SET_STATE == _IOW::<StateArg>(IOC_MAGIC, 0x03));
    assert!(IOC_GET_STATE == _IOR::<StateArg>(IOC_MAGIC, 0x04));
    assert!(IOC_EXPORT == _IOWR::<ExportArg>(IOC_MAGIC, 0x05));
    assert!(IOC_EXPORT_NET == _IOWR::<ExportNetArg>(IOC_MAGIC, 0x06));
    assert!(IOC_GUEST_GET == _IOWR::<GuestReq>(IOC_MAGIC, 0x10));
    assert!(IOC_GUEST_PUT == _IOW::<GuestResp>(IOC_MAGIC, 0x11));
    assert!(IOC_GUEST_EVENT == _IOW::<GuestEvent>(IOC_MAGIC, 0x12));
    assert!(IOC_GUEST_EXPORTS == _IOW::<GuestExports>(IOC_MAGIC, 0x13));
};
