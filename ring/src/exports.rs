// SPDX-License-Identifier: GPL-2.0

//! The guest's exports report in the header page: a seqlock-guarded bitmap
//! of the exports whose node it can serve.

use super::*;

/// The guest's report of the exports whose node it can serve, as read by
/// the host or the VMM.
///
/// The report is for telling people (logs, statistics, when to say
/// "ready"); nothing else trusts it: every call is forwarded whatever it
/// says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportsReport {
    /// The guest has not reported since the header was last initialised
    /// (this generation).
    NotReported,
    /// The guest was rewriting its report during the read: read again later.
    Changing,
    /// A consistent report.
    Reported(ExportsSeen),
}

/// A consistent exports report, cut to the configured exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportsSeen {
    /// The sequence word it was read under.
    pub seq: u32,
    /// The guest set bits beyond the configured exports (ignored).
    pub stray: bool,
    map: [u32; EXPORTS_WORDS],
}

impl ExportsSeen {
    /// Whether the guest reported export `index` as served; false for an
    /// index beyond the configured exports.
    pub fn present(&self, index: u32) -> bool {
        self.map
            .get(us(index / 32))
            .is_some_and(|w| w & (1 << (index % 32)) != 0)
    }

    /// How many of the configured exports the guest serves.
    pub fn served(&self) -> u32 {
        self.map.iter().map(|w| w.count_ones()).sum()
    }
}

/// Reads the guest's exports report for `configured` exports (counts over
/// [`MAX_EXPORTS`] are cut to it).
///
/// Each word is read once: the sequence word, the map, then the sequence
/// word again (a sequence lock; all loads acquire, so the second load of
/// the sequence word cannot pass the map's). A guest that keeps rewriting
/// only ever yields [`ExportsReport::Changing`]; bits beyond `configured`
/// are dropped and flagged in [`ExportsSeen::stray`].
///
/// # Errors
///
/// Only [`RingError::OutOfWindow`], for a window smaller than its header
/// (a bug).
pub fn read_exports<S: Shared>(win: &Window<S>, configured: u32) -> Result<ExportsReport> {
    let seq = win.load(hdr::EXPORTS_SEQ)?;
    if seq == 0 {
        return Ok(ExportsReport::NotReported);
    }
    if seq & 1 != 0 {
        return Ok(ExportsReport::Changing);
    }
    let mut map = [0u32; EXPORTS_WORDS];
    for (w, off) in map.iter_mut().zip((hdr::EXPORTS_MAP..).step_by(4)) {
        *w = win.load(off)?;
    }
    if win.load(hdr::EXPORTS_SEQ)? != seq {
        return Ok(ExportsReport::Changing);
    }
    let n = configured.min(MAX_EXPORTS);
    let mut stray = false;
    for (w, first) in map.iter_mut().zip((0u32..).step_by(32)) {
        let keep = match n.saturating_sub(first) {
            0 => 0,
            k if k >= 32 => u32::MAX,
            k => (1u32 << k) - 1,
        };
        stray |= *w & !keep != 0;
        *w &= keep;
    }
    Ok(ExportsReport::Reported(ExportsSeen { seq, stray, map }))
}

/// The sequence values a guest writes to [`hdr::EXPORTS_SEQ`] for its next
/// report after `seq`: an odd one while it rewrites the map, then an even,
/// non-zero one (0 means "not reported", so the wrap skips it).
pub fn exports_seq_after(seq: u32) -> (u32, u32) {
    let odd = seq.wrapping_add(1) | 1;
    let even = match odd.wrapping_add(1) {
        0 => 2,
        e => e,
    };
    (odd, even)
}
