// SPDX-License-Identifier: GPL-2.0

//! The host side of the ring: publishes requests, consumes responses and
//! events.

use super::*;

/// The host side: produces requests, consumes responses and events.
///
/// The host owns the window: it initialises the header and bumps the
/// generation on every driver-VM restart. Every value read from the window
/// is copied once and validated; the first peer fault is sticky and every
/// later call returns it.
pub struct Host<S: Shared> {
    win: Window<S>,
    ident: Identity,
    inflight: Inflight,
    req_prod: u32,
    req_kicked: u32,
    resp_cons: u32,
    evt_cons: u32,
    broken: Option<RingError>,
}

impl<S: Shared> Host<S> {
    /// Initialises the window for generation `generation` and returns the host.
    ///
    /// # Errors
    ///
    /// [`RingError::BadLayout`] if the window is too small or larger than
    /// 4 GiB, [`RingError::BadFeatures`] for unknown features.
    pub fn new(mem: S, layout: Layout, features: u32, generation: u32) -> Result<Self> {
        let mut host = core::mem::MaybeUninit::<Self>::uninit();
        // SAFETY: `host` is valid for writes and aligned; on success
        // `init_in_place` has initialised it.
        unsafe {
            Self::init_in_place(host.as_mut_ptr(), mem, layout, features, generation)?;
            Ok(host.assume_init())
        }
    }

    /// Like [`Host::new`], but initialises the host at `slot` without
    /// building it on the stack first.
    ///
    /// A `Host` is several KiB (the in-flight table); kernel stacks are
    /// small, so the kernel allocates the memory and initialises it here.
    ///
    /// # Errors
    ///
    /// As [`Host::new`]; on error `slot` is left uninitialised.
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes of a `Host<S>` and properly aligned. On
    /// success it holds an initialised `Host<S>`.
    pub unsafe fn init_in_place(
        slot: *mut Self,
        mem: S,
        layout: Layout,
        features: u32,
        generation: u32,
    ) -> Result<()> {
        let win = Window::new(mem);
        let size = u32::try_from(win.size()).map_err(|_| RingError::BadLayout)?;
        if size < layout.min_size {
            return Err(RingError::BadLayout);
        }
        if features & !FEATURES_KNOWN != 0 || features & FEATURE_EVENT_IDX == 0 {
            return Err(RingError::BadFeatures);
        }
        let ident = Identity {
            magic: MAGIC,
            version: ABI_VERSION,
            features,
            window_size: size,
            generation,
            layout,
        };
        // SAFETY: `slot` is valid for writes and aligned (the caller's
        // contract), so are pointers to its fields; every field is written
        // exactly once here, the in-flight table by `Inflight::init_at`.
        unsafe {
            core::ptr::addr_of_mut!((*slot).win).write(win);
            core::ptr::addr_of_mut!((*slot).ident).write(ident);
            Inflight::init_at(core::ptr::addr_of_mut!((*slot).inflight), layout.num_slots);
            core::ptr::addr_of_mut!((*slot).req_prod).write(0);
            core::ptr::addr_of_mut!((*slot).req_kicked).write(0);
            core::ptr::addr_of_mut!((*slot).resp_cons).write(0);
            core::ptr::addr_of_mut!((*slot).evt_cons).write(0);
            core::ptr::addr_of_mut!((*slot).broken).write(None);
        }
        // SAFETY: Every field of `*slot` was initialised above, and nothing
        // else refers to it.
        let host = unsafe { &mut *slot };
        if let Err(e) = host.init_header() {
            // SAFETY: `*slot` is initialised and dropped once; afterwards the
            // caller treats it as uninitialised, as documented.
            unsafe { core::ptr::drop_in_place(slot) };
            return Err(e);
        }
        Ok(())
    }

    fn init_header(&mut self) -> Result<()> {
        let w = &self.win;
        w.store(hdr::MAGIC, 0)?;
        w.mb();
        w.write(0, &[0u8; us(hdr::END)])?;
        let mut id = self.ident.encode();
        // The magic is published last, with release ordering.
        le::put32(&mut id, 0, 0);
        w.write(0, &id)?;
        w.store(hdr::HOST_STATE, HostState::Ready as u32)?;
        w.store(hdr::MAGIC, MAGIC)?;
        w.mb();
        Ok(())
    }

    /// Re-initialises the window for a restarted driver VM.
    ///
    /// Every request in flight is reported to `failed(id, tag)` and freed;
    /// the caller fails its waiter (with `EIO`).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`], which cannot happen for a window
    /// that passed [`Host::new`].
    pub fn reset(&mut self, generation: u32, mut failed: impl FnMut(u32, u32)) -> Result<()> {
        for tag in 0..self.ident.layout.num_slots {
            if let Some(e) = self.inflight.get(tag) {
                if matches!(e.state, SlotState::Pending | SlotState::Answered) {
                    failed(e.id, tag);
                }
            }
        }
        self.inflight.reinit(self.ident.layout.num_slots);
        self.ident.generation = generation;
        self.req_prod = 0;
        self.req_kicked = 0;
        self.resp_cons = 0;
        self.evt_cons = 0;
        self.broken = None;
        self.init_header()
    }

    /// Returns the layout.
    pub fn layout(&self) -> &Layout {
        &self.ident.layout
    }

    /// Returns the current generation.
    pub fn generation(&self) -> u32 {
        self.ident.generation
    }

    /// Returns the window.
    pub fn window(&self) -> &Window<S> {
        &self.win
    }

    /// Returns the in-flight table.
    pub fn inflight(&self) -> &Inflight {
        &self.inflight
    }

    /// Returns the sticky peer fault, if any.
    pub fn broken(&self) -> Option<RingError> {
        self.broken
    }

    fn ok(&self) -> Result<()> {
        match self.broken {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn fail<T>(&mut self, e: RingError) -> Result<T> {
        if e.is_peer_fault() && self.broken.is_none() {
            self.broken = Some(e);
        }
        Err(e)
    }

    /// Sets the host state word.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn set_state(&self, s: HostState) -> Result<()> {
        self.win.store(hdr::HOST_STATE, s as u32)
    }

    /// Returns true if a guest attached to the current generation and serves.
    ///
    /// # Errors
    ///
    /// [`RingError::BadState`] if the guest wrote an unknown state.
    pub fn guest_ready(&mut self) -> Result<bool> {
        let st = self.win.load(hdr::GUEST_STATE)?;
        let gen = self.win.load(hdr::GUEST_GENERATION)?;
        let feat = self.win.load(hdr::GUEST_FEATURES)?;
        let st = match GuestState::try_from(st) {
            Ok(s) => s,
            Err(e) => return self.fail(e),
        };
        if st != GuestState::Ready || gen != self.ident.generation {
            return Ok(false);
        }
        if feat & !self.ident.features != 0 || feat & FEATURE_EVENT_IDX == 0 {
            return self.fail(RingError::BadFeatures);
        }
        Ok(true)
    }

    /// The feature bits the guest accepted, as it reported them (only
    /// bits this host offered count; 0 before the guest is ready).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn guest_features(&self) -> Result<u32> {
        let gen = self.win.load(hdr::GUEST_GENERATION)?;
        if gen != self.ident.generation {
            return Ok(0);
        }
        Ok(self.win.load(hdr::GUEST_FEATURES)? & self.ident.features)
    }

    /// Reads the guest's heartbeat counter (any value is valid; the
    /// supervisor checks that it moves).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn heartbeat(&self) -> Result<u32> {
        self.win.load(hdr::HEARTBEAT)
    }

    /// Reads the guest's report of the exports it serves, for
    /// `configured` exports ([`read_exports`]).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn exports(&self, configured: u32) -> Result<ExportsReport> {
        read_exports(&self.win, configured)
    }

    /// Writes a request and its payload and publishes it, without notifying.
    ///
    /// Call [`Host::kick_needed`] after one or more pushes.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if every slot is in flight,
    /// [`RingError::TooLarge`] if `payload` or `reply_max` exceed a slot
    /// buffer, or the sticky peer fault.
    pub fn push(&mut self, desc: &RequestDesc, payload: &[u8]) -> Result<Submitted> {
        let len = u32::try_from(payload.len()).map_err(|_| RingError::TooLarge)?;
        let pushed = self.push_with(desc, len, |mem, off, n| {
            // SAFETY: `push_with` checked that `off + n` lies in the window,
            // and `n == payload.len()`.
            unsafe { mem.write_bytes(off, payload.get(..n).unwrap_or_default()) };
            true
        })?;
        pushed.ok_or(RingError::TooLarge)
    }

    /// [`Host::push`] with a payload of `len` bytes that `fill` writes into
    /// the request's buffer itself (`fill(accessor, offset, len)`, the range
    /// checked to lie in the window), e.g. straight from a user buffer.
    ///
    /// Returns `None`, with nothing published and the slot free again, if
    /// `fill` returns false.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn push_with(
        &mut self,
        desc: &RequestDesc,
        len: u32,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<Option<Submitted>> {
        self.ok()?;
        let l = self.ident.layout;
        if len > l.slot_data_size || desc.reply_max > l.slot_data_size {
            return Err(RingError::TooLarge);
        }
        let (tag, id) = self
            .inflight
            .alloc(desc.op, len, desc.reply_max)
            .ok_or(RingError::Full)?;
        let wire = WireRequest {
            id,
            op: u32::from(desc.op),
            export: desc.export,
            handle: desc.handle,
            flags: desc.flags,
            len,
            pos: desc.pos,
            cmd: desc.cmd,
            payload_off: l.buf_rel(tag),
            arg: desc.arg,
            reply_max: desc.reply_max,
            reserved0: 0,
            reserved1: 0,
        };
        let filled = match self.win.with_range(l.buf_off(tag), us(len), fill) {
            Ok(true) => self.win.write(l.req_slot(self.req_prod), &wire.encode()),
            Ok(false) => {
                self.inflight.free_tag(tag);
                return Ok(None);
            }
            Err(e) => Err(e),
        };
        if let Err(e) = filled {
            self.inflight.free_tag(tag);
            return Err(e);
        }
        self.req_prod = self.req_prod.wrapping_add(1);
        self.win.store(hdr::REQ_PROD, self.req_prod)?;
        Ok(Some(Submitted { id, tag }))
    }

    /// Returns true if the guest must be notified of the requests pushed
    /// since the last call (event-index suppression).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn kick_needed(&mut self) -> Result<bool> {
        self.win.mb();
        let ev = self.win.load(hdr::REQ_EVENT)?;
        let old = self.req_kicked;
        self.req_kicked = self.req_prod;
        Ok(ring_need_event(ev, self.req_prod, old))
    }

    /// Pushes one request and returns it with whether to notify the guest.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn submit(&mut self, desc: &RequestDesc, payload: &[u8]) -> Result<(Submitted, bool)> {
        let s = self.push(desc, payload)?;
        let kick = self.kick_needed()?;
        Ok((s, kick))
    }

    /// [`Host::push_with`], then [`Host::kick_needed`] if it pushed.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn submit_with(
        &mut self,
        desc: &RequestDesc,
        len: u32,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<Option<(Submitted, bool)>> {
        let Some(s) = self.push_with(desc, len, fill)? else {
            return Ok(None);
        };
        let kick = self.kick_needed()?;
        Ok(Some((s, kick)))
    }

    /// Takes the next response, validated, or `None` if there is none.
    ///
    /// Responses to abandoned requests are consumed and their slots freed
    /// silently. The returned completion keeps its slot busy until
    /// [`Host::release`].
    ///
    /// # Errors
    ///
    /// Any peer fault ([`RingError::IndexJump`], [`RingError::UnknownId`],
    /// [`RingError::DuplicateId`], [`RingError::LengthTooLong`], ...); the
    /// channel is broken from then on.
    pub fn next_response(&mut self) -> Result<Option<Completion>> {
        self.ok()?;
        let l = self.ident.layout;
        loop {
            let prod = self.win.load(hdr::RESP_PROD)?;
            let avail = prod.wrapping_sub(self.resp_cons);
            if avail == 0 {
                return Ok(None);
            }
            if avail > l.num_slots {
                return self.fail(RingError::IndexJump);
            }
            let mut raw = [0u8; us(RESP_SIZE)];
            self.win.read(l.resp_slot(self.resp_cons), &mut raw)?;
            self.resp_cons = self.resp_cons.wrapping_add(1);
            self.win.store(hdr::RESP_CONS, self.resp_cons)?;
            let c = match check_response(&self.inflight, &WireResponse::decode(&raw)) {
                Ok(c) => c,
                Err(e) => return self.fail(e),
            };
            let abandoned = match self.inflight.get_mut(c.tag) {
                Some(e) if e.state == SlotState::Abandoned => true,
                Some(e) => {
                    e.state = SlotState::Answered;
                    false
                }
                None => return self.fail(RingError::UnknownId),
            };
            if abandoned {
                self.inflight.free_tag(c.tag);
                continue;
            }
            return Ok(Some(c));
        }
    }

    /// Copies the reply payload of `c` into the start of `dst`; returns its
    /// length.
    ///
    /// # Errors
    ///
    /// [`RingError::TooLarge`] if `dst` is shorter than `c.len`,
    /// [`RingError::UnknownId`] if `c` is not an answered request.
    pub fn read_reply(&self, c: &Completion, dst: &mut [u8]) -> Result<usize> {
        let dst = dst.get_mut(..us(c.len)).ok_or(RingError::TooLarge)?;
        self.read_reply_with(c, |mem, off, n| {
            // SAFETY: `read_reply_with` checked that `off + n` lies in the
            // window, and `n == c.len == dst.len()`.
            unsafe { mem.read_bytes(off, dst) };
            n
        })
    }

    /// Lets `read(accessor, offset, len)` copy the reply payload of `c`
    /// itself, e.g. straight to a user buffer; the range is checked to lie
    /// in the window and `len == c.len`.
    ///
    /// # Errors
    ///
    /// [`RingError::UnknownId`] if `c` is not an answered request.
    pub fn read_reply_with<R>(
        &self,
        c: &Completion,
        read: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let e = self.inflight.get(c.tag).ok_or(RingError::UnknownId)?;
        if e.state != SlotState::Answered || e.id != c.id || c.len > e.reply_max {
            return Err(RingError::UnknownId);
        }
        self.win
            .with_range(self.ident.layout.buf_off(c.tag), us(c.len), read)
    }

    /// Frees the slot of an answered request.
    pub fn release(&mut self, c: &Completion) {
        if let Some(e) = self.inflight.get(c.tag) {
            if e.state == SlotState::Answered && e.id == c.id {
                self.inflight.free_tag(c.tag);
            }
        }
    }

    /// Gives up on request `id` (deadline or signal). Its slot stays busy
    /// until the guest answers or the window is reset.
    pub fn abandon(&mut self, id: u32) {
        let tag = id & self.ident.layout.mask();
        let st = match self.inflight.get_mut(tag) {
            Some(e) if e.id == id => e.state,
            _ => return,
        };
        match st {
            SlotState::Pending => {
                if let Some(e) = self.inflight.get_mut(tag) {
                    e.state = SlotState::Abandoned;
                }
            }
            SlotState::Answered => self.inflight.free_tag(tag),
            SlotState::Free | SlotState::Abandoned => {}
        }
    }

    /// Takes the next asynchronous event, validated, or `None`.
    ///
    /// # Errors
    ///
    /// [`RingError::IndexJump`], [`RingError::UnknownEvent`] or
    /// [`RingError::BadBits`]; the channel is broken from then on.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        self.ok()?;
        let l = self.ident.layout;
        let prod = self.win.load(hdr::EVT_PROD)?;
        let avail = prod.wrapping_sub(self.evt_cons);
        if avail == 0 {
            return Ok(None);
        }
        if avail > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        let mut raw = [0u8; us(EVT_SIZE)];
        self.win.read(l.evt_slot(self.evt_cons), &mut raw)?;
        self.evt_cons = self.evt_cons.wrapping_add(1);
        self.win.store(hdr::EVT_CONS, self.evt_cons)?;
        match Event::from_wire(&WireEvent::decode(&raw)) {
            Ok(ev) => Ok(Some(ev)),
            Err(e) => self.fail(e),
        }
    }

    /// Asks the guest to notify on the next response or event, then
    /// re-checks. Returns true if work arrived meanwhile (do not sleep).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn enable_notify(&mut self) -> Result<bool> {
        self.ok()?;
        self.win.store(hdr::RESP_EVENT, self.resp_cons)?;
        self.win.store(hdr::EVT_EVENT, self.evt_cons)?;
        self.win.mb();
        let rp = self.win.load(hdr::RESP_PROD)?;
        let ep = self.win.load(hdr::EVT_PROD)?;
        Ok(rp != self.resp_cons || ep != self.evt_cons)
    }
}
