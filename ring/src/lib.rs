// SPDX-License-Identifier: GPL-2.0

//! The ikernel ring as a cargo crate, for the shim, the tests and benchmarks.
//!
//! `ring.rs` (with the part files it names) is the one shared source: the
//! kernel modules include the same file with `#[path]`. This crate
//! re-exports it and adds [`user`], the user-space [`Shared`] accessor built
//! on `core::sync::atomic`.

#![no_std]

#[path = "ring.rs"]
mod ring;

pub use ring::*;

pub mod user;
