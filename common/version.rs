// SPDX-License-Identifier: GPL-2.0

//! The version ioctl shared by ikernel's host and guest stubs.
//!
//! Both control devices answer `IKERNEL_IOC_VERSION` (see
//! `include/uapi/linux/ikernel.h`; `ring::uapi` holds its number and struct)
//! so that user space, the shim and the tests can tell which module and
//! which wire ABI they talk to.

use kernel::{
    prelude::*,
    uaccess::UserSliceWriter, //
};

use crate::ring::{
    self,
    uapi::{
        Side,
        Version, //
    },
};

/// Module version, reported by `IKERNEL_IOC_VERSION` and logged at load.
pub(crate) const MAJOR: u32 = 0;
/// Module minor version.
pub(crate) const MINOR: u32 = 1;
/// Module patch level.
pub(crate) const PATCH: u32 = 0;

/// Copies the version of this module, speaking the ring's wire ABI, on
/// `side`, out to user space.
pub(crate) fn write_to(side: Side, mut out: UserSliceWriter) -> Result<isize> {
    out.write(&Version {
        major: MAJOR,
        minor: MINOR,
        patch: PATCH,
        ring_abi: ring::ABI_VERSION,
        side: u32::from(side),
        reserved: 0,
    })?;
    Ok(0)
}
