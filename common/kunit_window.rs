// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the kernel's side of the ring: the window accessor
//! ([`KernelWindow`], the only code that touches the window's memory) and
//! the ring's host and guest algorithms running over it in kernel memory.
//!
//! The ring's logic is tested at length in user space (`ring/tests`, loom,
//! the fuzzer) over a user-space accessor; these tests cover what only
//! exists in the kernel build: the volatile byte/word copies at every
//! alignment, the kernel atomics, and a hostile peer's writes read back
//! through them.  Built into the test flavour of the modules only
//! (`--cfg ikernel_test`), run when the module loads on a kernel with
//! `CONFIG_KUNIT` and `kunit.enable=1`; results in
//! `/sys/kernel/debug/kunit/ikernel_window/results`.

#[kernel::macros::kunit_tests(ikernel_window)]
mod tests {
    use crate::ring::{
        hdr, Guest, Host, Layout, Op, RequestDesc, RingError, Shared, Window, FEATURES_KNOWN,
        FEATURE_EVENT_IDX,
    };
    use crate::window::KernelWindow;
    use kernel::{alloc::flags::GFP_KERNEL, prelude::*};

    const SLOTS: u32 = 8;
    const SLOT_DATA: u32 = 4096;

    /// A zeroed, page-aligned (vmalloc) buffer and a window over it.
    struct Buf {
        mem: VVec<u8>,
    }

    impl Buf {
        fn new(size: usize) -> Result<Self> {
            Ok(Buf {
                mem: VVec::from_elem(0u8, size, GFP_KERNEL)?,
            })
        }

        fn window(&mut self) -> KernelWindow {
            let size = self.mem.len();
            // SAFETY: vmalloc memory is page aligned, valid for `size` bytes
            // and freed only when `self` is dropped, after every window made
            // here (each test drops its windows before its `Buf`).
            unsafe { KernelWindow::new(self.mem.as_mut_ptr(), size) }
        }
    }

    fn layout() -> Result<Layout> {
        Layout::new(SLOTS, SLOT_DATA).map_err(|_| EINVAL)
    }

    /// The ring's `Host` is several KiB: on the heap, as host_stub keeps it.
    fn host<'a>(
        w: &'a KernelWindow,
        l: Layout,
        generation: u32,
    ) -> Result<KBox<Host<&'a KernelWindow>>> {
        let mut h = KBox::<Host<&KernelWindow>>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `h.as_mut_ptr()` is valid for writes and aligned; on
        // success `init_in_place` initialised it, on failure nothing is read.
        unsafe {
            Host::init_in_place(h.as_mut_ptr(), w, l, FEATURE_EVENT_IDX, generation)
                .map_err(|_| EINVAL)?;
            Ok(h.assume_init())
        }
    }

    /// Every offset and length in the first 64 bytes, read and written
    /// through the accessor, matches a plain copy: the word/byte split of
    /// `read_bytes`/`write_bytes` loses, repeats and reorders nothing.
    #[test]
    fn accessor_copies_at_every_alignment() -> Result {
        let mut buf = Buf::new(4096)?;
        let w = Window::new(buf.window());
        let mut pattern = [0u8; 64];
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(1);
        }
        for off in 0u32..24 {
            for len in 0usize..40 {
                w.write(0, &[0u8; 128]).map_err(|_| EINVAL)?;
                w.write(off, &pattern[..len]).map_err(|_| EINVAL)?;
                let mut back = [0u8; 128];
                w.read(0, &mut back).map_err(|_| EINVAL)?;
                let o = off as usize;
                assert!(back[..o].iter().all(|&b| b == 0));
                assert_eq!(&back[o..o + len], &pattern[..len]);
                assert!(back[o + len..].iter().all(|&b| b == 0));
                let mut part = [0u8; 40];
                w.read(off, &mut part[..len]).map_err(|_| EINVAL)?;
                assert_eq!(&part[..len], &pattern[..len]);
            }
        }
        Ok(())
    }

    /// The accessor refuses what lies outside the window, whatever the
    /// offset and length add up to.
    #[test]
    fn accessor_refuses_out_of_bounds() -> Result {
        let mut buf = Buf::new(4096)?;
        let w = Window::new(buf.window());
        let mut b = [0u8; 8];
        assert_eq!(w.read(4090, &mut b), Err(RingError::OutOfWindow));
        assert_eq!(w.write(u32::MAX - 2, &b), Err(RingError::OutOfWindow));
        assert_eq!(w.load(4096), Err(RingError::OutOfWindow));
        assert_eq!(w.load(2), Err(RingError::OutOfWindow));
        assert!(w.read(4088, &mut b).is_ok());
        Ok(())
    }

    /// A request and its response cross kernel memory intact, host side to
    /// guest side and back.
    #[test]
    fn round_trip_in_kernel_memory() -> Result {
        let l = layout()?;
        let mut buf = Buf::new(l.min_size as usize)?;
        let (hw, gw) = (buf.window(), buf.window());
        let mut h = host(&hw, l, 5)?;
        let mut g = Guest::attach(&gw, FEATURES_KNOWN).map_err(|_| EINVAL)?;
        assert!(h.guest_ready().map_err(|_| EINVAL)?);
        assert_eq!(g.generation(), 5);
        let desc = RequestDesc {
            export: 1,
            handle: 3,
            reply_max: 32,
            ..RequestDesc::new(Op::Write)
        };
        let (s, _) = h.submit(&desc, b"from the host").map_err(|_| EINVAL)?;
        let r = g.next_request().map_err(|_| EINVAL)?.ok_or(EINVAL)?;
        assert_eq!(r.id, s.id);
        let mut p = [0u8; 32];
        let n = g.read_payload(&r, &mut p).map_err(|_| EINVAL)?;
        assert_eq!(&p[..n], b"from the host");
        g.respond(&r, 13, b"from the guest", 0)
            .map_err(|_| EINVAL)?;
        let c = h.next_response().map_err(|_| EINVAL)?.ok_or(EINVAL)?;
        assert_eq!((c.id, c.result), (s.id, 13));
        let mut out = [0u8; 32];
        let n = h.read_reply(&c, &mut out).map_err(|_| EINVAL)?;
        assert_eq!(&out[..n], b"from the guest");
        h.release(&c);
        assert_eq!(h.inflight().busy(), 0);
        Ok(())
    }

    /// A guest that publishes a response twice, or moves its producer index
    /// past what it may, breaks the ring: the host reports the violation,
    /// stays broken, and never hands out a completion for it.
    #[test]
    fn hostile_responses_break_the_ring() -> Result {
        let l = layout()?;
        let mut buf = Buf::new(l.min_size as usize)?;
        let (hw, gw) = (buf.window(), buf.window());
        let mut h = host(&hw, l, 1)?;
        let mut g = Guest::attach(&gw, FEATURES_KNOWN).map_err(|_| EINVAL)?;
        let desc = RequestDesc {
            reply_max: 16,
            ..RequestDesc::new(Op::Read)
        };
        h.submit(&desc, b"").map_err(|_| EINVAL)?;
        let r = g.next_request().map_err(|_| EINVAL)?.ok_or(EINVAL)?;
        g.respond(&r, 0, b"", 0).map_err(|_| EINVAL)?;
        let c = h.next_response().map_err(|_| EINVAL)?.ok_or(EINVAL)?;
        h.release(&c);
        // Replay slot 0's response in slot 1, as a hostile guest would.
        let mut raw = [0u8; 32];
        gw.read_bytes_checked(l.resp_slot(0), &mut raw)?;
        gw.write_bytes_checked(l.resp_slot(1), &raw)?;
        Window::new(&gw)
            .store(hdr::RESP_PROD, 2)
            .map_err(|_| EINVAL)?;
        assert_eq!(h.next_response(), Err(RingError::DuplicateId));
        assert_eq!(h.broken(), Some(RingError::DuplicateId));
        assert_eq!(h.next_response(), Err(RingError::DuplicateId));

        let mut buf2 = Buf::new(l.min_size as usize)?;
        let w2 = buf2.window();
        let mut h2 = host(&w2, l, 1)?;
        Window::new(&w2)
            .store(hdr::RESP_PROD, SLOTS + 1)
            .map_err(|_| EINVAL)?;
        assert_eq!(h2.next_response(), Err(RingError::IndexJump));
        Ok(())
    }

    /// Checked byte copies for the tests, through the accessor's own
    /// bounds-checked wrapper.
    trait Checked {
        fn read_bytes_checked(&self, off: u32, dst: &mut [u8]) -> Result;
        fn write_bytes_checked(&self, off: u32, src: &[u8]) -> Result;
    }

    impl<S: Shared> Checked for S {
        fn read_bytes_checked(&self, off: u32, dst: &mut [u8]) -> Result {
            Window::new(self).read(off, dst).map_err(|_| EINVAL)
        }
        fn write_bytes_checked(&self, off: u32, src: &[u8]) -> Result {
            Window::new(self).write(off, src).map_err(|_| EINVAL)
        }
    }
}
