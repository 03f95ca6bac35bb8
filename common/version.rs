// SPDX-License-Identifier: GPL-2.0

//! The version ioctl shared by ikernel's host and guest stubs.
//!
//! Both control devices answer `IKERNEL_IOC_VERSION` (see
//! `include/uapi/linux/ikernel.h`) so that user space, the shim and the tests
//! can tell which module and which wire ABI they talk to.

use kernel::{
    ioctl::_IOR,
    prelude::*,
    transmute::AsBytes,
    uaccess::UserSliceWriter, //
};

/// Module version, reported by `IKERNEL_IOC_VERSION` and logged at load.
pub(crate) const MAJOR: u32 = 0;
/// Module minor version.
pub(crate) const MINOR: u32 = 1;
/// Module patch level.
pub(crate) const PATCH: u32 = 0;

/// Which stub answers: `IKERNEL_SIDE_*` in the UAPI header.
#[derive(Clone, Copy)]
#[repr(u32)]
#[expect(dead_code, reason = "each stub constructs only its own side")]
pub(crate) enum Side {
    /// `IKERNEL_SIDE_HOST`: host_stub.
    Host = 1,
    /// `IKERNEL_SIDE_GUEST`: guest_stub.
    Guest = 2,
}

/// The ioctl magic of all ikernel control devices (`IKERNEL_IOC_MAGIC`).
pub(crate) const IOC_MAGIC: u32 = 0xB7;

/// `struct ikernel_version` in the UAPI header.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Version {
    major: u32,
    minor: u32,
    patch: u32,
    ring_abi: u32,
    side: u32,
    reserved: u32,
}

// SAFETY: `Version` is `repr(C)` and made of `u32`s only, so it has no padding
// and every byte of it is initialised.
unsafe impl AsBytes for Version {}

/// `IKERNEL_IOC_VERSION`.
pub(crate) const IOC_VERSION: u32 = _IOR::<Version>(IOC_MAGIC, 0);

impl Version {
    /// The version of this module, speaking wire ABI `ring_abi`, on `side`.
    pub(crate) const fn this_module(ring_abi: u32, side: Side) -> Self {
        Self {
            major: MAJOR,
            minor: MINOR,
            patch: PATCH,
            ring_abi,
            side: side as u32,
            reserved: 0,
        }
    }

    /// Copies the version out to user space.
    pub(crate) fn write_to(&self, mut out: UserSliceWriter) -> Result<isize> {
        out.write(self)?;
        Ok(0)
    }
}
