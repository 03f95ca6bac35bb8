// SPDX-License-Identifier: GPL-2.0

//! The ring's errors, and which of them the peer caused.

use core::fmt;

/// Errors of the ring. Errors caused by the peer mark the channel broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// The window does not start with [`MAGIC`](super::MAGIC) (peer not ready or corrupt).
    BadMagic,
    /// The window has an ABI version other than [`ABI_VERSION`](super::ABI_VERSION).
    BadVersion,
    /// Unknown or missing feature bits.
    BadFeatures,
    /// Ring geometry, offsets or window size are inconsistent.
    BadLayout,
    /// A state word holds an unknown value.
    BadState,
    /// A peer index moved by more than the ring size (or backwards).
    IndexJump,
    /// A request carries an unknown op.
    UnknownOp,
    /// An event carries an unknown kind.
    UnknownEvent,
    /// A response names a request id that is not in flight.
    UnknownId,
    /// A response names a request that was already answered.
    DuplicateId,
    /// A payload lies outside the data area or outside its own slot buffer.
    PayloadOutOfBounds,
    /// A payload overlaps the payload of another request in flight.
    PayloadOverlap,
    /// A length is larger than what the request allowed.
    LengthTooLong,
    /// A result is neither a value nor a negative errno.
    BadResult,
    /// Poll events or flags hold unknown bits.
    BadBits,
    /// Local: no free slot, or the target ring is full. Retry later.
    Full,
    /// Local: a payload is larger than a slot buffer or a request allows.
    TooLarge,
    /// Local: an offset outside the window was computed (a bug, never peer input).
    OutOfWindow,
}

impl RingError {
    /// Every error in declaration order, so that `ALL[e as usize] == e`.
    /// host_stub reports the violation that broke a ring to the VMM as that
    /// index plus one (`ikernel_state.broken`).
    pub const ALL: [RingError; 18] = [
        RingError::BadMagic,
        RingError::BadVersion,
        RingError::BadFeatures,
        RingError::BadLayout,
        RingError::BadState,
        RingError::IndexJump,
        RingError::UnknownOp,
        RingError::UnknownEvent,
        RingError::UnknownId,
        RingError::DuplicateId,
        RingError::PayloadOutOfBounds,
        RingError::PayloadOverlap,
        RingError::LengthTooLong,
        RingError::BadResult,
        RingError::BadBits,
        RingError::Full,
        RingError::TooLarge,
        RingError::OutOfWindow,
    ];

    /// Returns true if the error was caused by the peer (the channel is broken).
    pub fn is_peer_fault(self) -> bool {
        !matches!(
            self,
            RingError::Full | RingError::TooLarge | RingError::OutOfWindow
        )
    }

    /// Returns the negative errno a system call should fail with.
    pub fn to_errno(self) -> i32 {
        match self {
            // EAGAIN.
            RingError::Full => -11,
            // E2BIG.
            RingError::TooLarge => -7,
            // EIO.
            _ => -5,
        }
    }
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Result type of the ring.
pub type Result<T, E = RingError> = core::result::Result<T, E>;
