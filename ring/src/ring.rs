// SPDX-License-Identifier: GPL-2.0

//! The ikernel shared window: wire ABI and ring algorithm.
//!
//! These files are the only definition of the layout of the window that the
//! host and a driver VM share. The host kernel module (`host_stub`) and the
//! guest kernel module (`guest_stub`) include this file with `#[path]` (its
//! submodules are found beside it), and user space (`ivt_shim`, tests,
//! benchmarks) uses it through the `ikernel-ring` cargo crate. It uses only
//! `core`: no allocation, no floating point, no panics on anything read from
//! the peer.
//!
//! All access to the window goes through the [`Shared`] accessor trait, which
//! the kernel implements with the kernel's atomics and user space with
//! `core::sync::atomic`. See `Documentation/ring.rst` for the byte layout
//! and the protocol.
//!
//! The parts, each a concept, lowest first: [`abi`] (constants, header
//! offsets, enums), [`error`], [`shared`] (the only memory access),
//! [`layout`] (a window's geometry), [`wire`] (the records and their
//! decoding), [`exports`] (the guest's exports report), [`inflight`] (the
//! host's table of outstanding requests), then the two sides, [`host`] and
//! [`guest`], [`ops`] (what each op's request fields mean) and [`net`]
//! (the net ops' frame batches). Everything
//! is re-exported here, so users name `ring::Host`, `ring::hdr::REQ_PROD`
//! and so on. Beside the ring, [`uapi`] is the control devices' ABI
//! (`include/uapi/linux/ikernel.h`), not re-exported: users name
//! `ring::uapi::IOC_VERSION`.

pub mod abi;
pub mod error;
pub mod exports;
pub mod guest;
pub mod host;
pub mod inflight;
pub mod layout;
pub mod net;
pub mod ops;
pub mod remote;
pub mod shared;
pub mod uapi;
pub mod wire;

pub use abi::*;
pub use error::*;
pub use exports::*;
pub use guest::*;
pub use host::*;
pub use inflight::*;
pub use layout::*;
pub use net::*;
pub use ops::*;
pub use remote::*;
pub use shared::*;
pub use wire::*;
