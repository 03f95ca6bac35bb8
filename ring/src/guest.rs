// SPDX-License-Identifier: GPL-2.0

//! The guest side of the ring: consumes requests, produces responses and
//! events.

use super::*;

/// The guest side: consumes requests, produces responses and events.
pub struct Guest<S: Shared> {
    win: Window<S>,
    ident: Identity,
    features: u32,
    busy: [u64; FREE_WORDS],
    req_cons: u32,
    resp_prod: u32,
    resp_signalled: u32,
    evt_prod: u32,
    evt_signalled: u32,
    heartbeat: u32,
    /// The last even value written to [`hdr::EXPORTS_SEQ`], 0 before.
    exports_seq: u32,
    broken: Option<RingError>,
}

impl<S: Shared> Guest<S> {
    /// Validates the header and attaches to the current generation.
    ///
    /// `features` are the feature bits the guest supports; the accepted set
    /// is their intersection with the host's offer.
    ///
    /// # Errors
    ///
    /// [`RingError::BadMagic`] (host not ready), [`RingError::BadVersion`],
    /// [`RingError::BadFeatures`] or [`RingError::BadLayout`].
    pub fn attach(mem: S, features: u32) -> Result<Self> {
        let win = Window::new(mem);
        if win.load(hdr::MAGIC)? != MAGIC {
            return Err(RingError::BadMagic);
        }
        let mut raw = [0u8; us(hdr::IDENTITY_SIZE)];
        win.read(0, &mut raw)?;
        let ident = Identity::decode(&raw, win.size())?;
        let accepted = ident.features & features;
        if accepted & FEATURE_EVENT_IDX == 0 {
            return Err(RingError::BadFeatures);
        }
        let g = Guest {
            win,
            ident,
            features: accepted,
            busy: [0; FREE_WORDS],
            req_cons: 0,
            resp_prod: 0,
            resp_signalled: 0,
            evt_prod: 0,
            evt_signalled: 0,
            heartbeat: 0,
            exports_seq: 0,
            broken: None,
        };
        let w = &g.win;
        // Whatever an earlier guest of this generation reported is not
        // this one's report.
        w.store(hdr::EXPORTS_SEQ, 0)?;
        w.store(hdr::REQ_CONS, 0)?;
        w.store(hdr::REQ_EVENT, 0)?;
        w.store(hdr::RESP_PROD, 0)?;
        w.store(hdr::EVT_PROD, 0)?;
        w.store(hdr::HEARTBEAT, 0)?;
        w.store(hdr::GUEST_FEATURES, accepted)?;
        w.store(hdr::GUEST_GENERATION, ident.generation)?;
        w.store(hdr::GUEST_STATE, GuestState::Ready as u32)?;
        w.mb();
        Ok(g)
    }

    /// Returns the layout.
    pub fn layout(&self) -> &Layout {
        &self.ident.layout
    }

    /// Returns the generation attached to.
    pub fn generation(&self) -> u32 {
        self.ident.generation
    }

    /// Returns the accepted feature bits.
    pub fn features(&self) -> u32 {
        self.features
    }

    /// Returns the window.
    pub fn window(&self) -> &Window<S> {
        &self.win
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

    fn is_busy(&self, tag: u32) -> bool {
        self.busy
            .get(us(tag / 64))
            .is_some_and(|w| w & (1 << (tag % 64)) != 0)
    }

    fn set_busy(&mut self, tag: u32, on: bool) {
        if let Some(w) = self.busy.get_mut(us(tag / 64)) {
            if on {
                *w |= 1 << (tag % 64);
            } else {
                *w &= !(1 << (tag % 64));
            }
        }
    }

    /// Returns true if the host changed generation or state (the window was
    /// reset or is closing): the guest must stop using it.
    ///
    /// # Errors
    ///
    /// [`RingError::BadState`].
    pub fn host_gone(&mut self) -> Result<bool> {
        let gen = self.win.load(hdr::GENERATION)?;
        let st = self.win.load(hdr::HOST_STATE)?;
        let st = match HostState::try_from(st) {
            Ok(s) => s,
            Err(e) => return self.fail(e),
        };
        Ok(gen != self.ident.generation || st != HostState::Ready)
    }

    /// Sets the guest state word.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn set_state(&self, s: GuestState) -> Result<()> {
        self.win.store(hdr::GUEST_STATE, s as u32)
    }

    /// Increments the heartbeat counter.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn beat(&mut self) -> Result<()> {
        self.heartbeat = self.heartbeat.wrapping_add(1);
        self.win.store(hdr::HEARTBEAT, self.heartbeat)
    }

    /// Reports the exports whose node the guest can serve: bit `i % 32` of
    /// `map[i / 32]` for export `i`.
    ///
    /// The sequence word goes odd, the map is written, then the sequence
    /// word goes even and non-zero; every store has release ordering, so a
    /// host that reads the same even value before and after the map has a
    /// consistent map.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn report_exports(&mut self, map: &[u32; EXPORTS_WORDS]) -> Result<()> {
        let (odd, even) = exports_seq_after(self.exports_seq);
        self.win.store(hdr::EXPORTS_SEQ, odd)?;
        for (w, off) in map.iter().zip((hdr::EXPORTS_MAP..).step_by(4)) {
            self.win.store(off, *w)?;
        }
        self.win.store(hdr::EXPORTS_SEQ, even)?;
        self.exports_seq = even;
        Ok(())
    }

    /// Takes the next request, validated, or `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`RingError::IndexJump`], [`RingError::UnknownOp`],
    /// [`RingError::PayloadOutOfBounds`], [`RingError::PayloadOverlap`],
    /// [`RingError::LengthTooLong`], [`RingError::BadBits`]; the channel is
    /// broken from then on.
    pub fn next_request(&mut self) -> Result<Option<Request>> {
        self.ok()?;
        let l = self.ident.layout;
        let prod = self.win.load(hdr::REQ_PROD)?;
        let avail = prod.wrapping_sub(self.req_cons);
        if avail == 0 {
            return Ok(None);
        }
        if avail > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        let mut raw = [0u8; us(REQ_SIZE)];
        self.win.read(l.req_slot(self.req_cons), &mut raw)?;
        self.req_cons = self.req_cons.wrapping_add(1);
        self.win.store(hdr::REQ_CONS, self.req_cons)?;
        let r = check_request(&l, &WireRequest::decode(&raw), |t| self.is_busy(t));
        match r {
            Ok(r) => {
                self.set_busy(r.tag, true);
                Ok(Some(r))
            }
            Err(e) => self.fail(e),
        }
    }

    /// Copies the payload of `req` into the start of `dst`; returns its length.
    ///
    /// # Errors
    ///
    /// [`RingError::TooLarge`] if `dst` is shorter than the payload.
    pub fn read_payload(&self, req: &Request, dst: &mut [u8]) -> Result<usize> {
        let dst = dst.get_mut(..us(req.len)).ok_or(RingError::TooLarge)?;
        self.read_payload_with(req, |mem, off, n| {
            // SAFETY: `read_payload_with` checked that `off + n` lies in the
            // window, and `n == req.len == dst.len()`.
            unsafe { mem.read_bytes(off, dst) };
            n
        })
    }

    /// Lets `read(accessor, offset, len)` copy the payload of `req` itself,
    /// e.g. straight to a user buffer; the range is checked to lie in the
    /// window and `len == req.len`.
    ///
    /// # Errors
    ///
    /// [`RingError::OutOfWindow`] (a bug: `req` was validated).
    pub fn read_payload_with<R>(
        &self,
        req: &Request,
        read: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let off = self
            .ident
            .layout
            .data_off
            .checked_add(req.payload_off)
            .ok_or(RingError::OutOfWindow)?;
        self.win.with_range(off, us(req.len), read)
    }

    /// Writes the response to `req` (and its reply payload) and publishes it.
    ///
    /// Call [`Guest::signal_needed`] after one or more responses.
    ///
    /// # Errors
    ///
    /// [`RingError::LengthTooLong`] if `payload` exceeds the request's
    /// `reply_max`, [`RingError::UnknownId`] if `req` is not in flight,
    /// [`RingError::Full`] if the host has not consumed responses,
    /// [`RingError::IndexJump`] if the host's consumer index is corrupt.
    pub fn respond(
        &mut self,
        req: &Request,
        result: i64,
        payload: &[u8],
        events: u32,
    ) -> Result<()> {
        self.respond_aux(req, result, payload, events, 0)
    }

    /// [`Guest::respond`] with an op-specific value ([`WireResponse::aux`]).
    ///
    /// # Errors
    ///
    /// As [`Guest::respond`].
    pub fn respond_aux(
        &mut self,
        req: &Request,
        result: i64,
        payload: &[u8],
        events: u32,
        aux: u64,
    ) -> Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| RingError::TooLarge)?;
        let done = self.respond_aux_with(req, result, len, events, aux, |mem, off, n| {
            // SAFETY: `respond_aux_with` checked that `off + n` lies in the
            // window, and `n == payload.len()`.
            unsafe { mem.write_bytes(off, payload.get(..n).unwrap_or_default()) };
            true
        })?;
        if done {
            Ok(())
        } else {
            Err(RingError::TooLarge)
        }
    }

    /// [`Guest::respond_aux`] with a reply of `len` bytes that `fill`
    /// writes into the request's buffer itself (`fill(accessor, offset,
    /// len)`, the range checked to lie in the window), e.g. straight from a
    /// user buffer.
    ///
    /// Returns false, with nothing published and the request still in
    /// flight, if `fill` returns false.
    ///
    /// # Errors
    ///
    /// As [`Guest::respond`].
    pub fn respond_aux_with(
        &mut self,
        req: &Request,
        result: i64,
        len: u32,
        events: u32,
        aux: u64,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<bool> {
        self.ok()?;
        let l = self.ident.layout;
        if len > req.desc.reply_max {
            return Err(RingError::TooLarge);
        }
        if req.tag != req.id & l.mask() || !self.is_busy(req.tag) {
            return Err(RingError::UnknownId);
        }
        let cons = self.win.load(hdr::RESP_CONS)?;
        let used = self.resp_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        let wire = WireResponse {
            id: req.id,
            len,
            result,
            events,
            flags: 0,
            aux,
        };
        if !self.win.with_range(l.buf_off(req.tag), us(len), fill)? {
            return Ok(false);
        }
        self.win
            .write(l.resp_slot(self.resp_prod), &wire.encode())?;
        self.set_busy(req.tag, false);
        self.resp_prod = self.resp_prod.wrapping_add(1);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(true)
    }

    /// Queues an asynchronous event for the host.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if the event ring is full (coalesce and send
    /// [`EventKind::Resync`] later), [`RingError::IndexJump`] if the host's
    /// consumer index is corrupt.
    pub fn push_event(&mut self, ev: &Event) -> Result<()> {
        self.ok()?;
        let l = self.ident.layout;
        let cons = self.win.load(hdr::EVT_CONS)?;
        let used = self.evt_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        self.win
            .write(l.evt_slot(self.evt_prod), &ev.to_wire().encode())?;
        self.evt_prod = self.evt_prod.wrapping_add(1);
        self.win.store(hdr::EVT_PROD, self.evt_prod)
    }

    /// Returns true if the host must be notified of the responses and events
    /// published since the last call (event-index suppression).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn signal_needed(&mut self) -> Result<bool> {
        self.win.mb();
        let re = self.win.load(hdr::RESP_EVENT)?;
        let ee = self.win.load(hdr::EVT_EVENT)?;
        let need = ring_need_event(re, self.resp_prod, self.resp_signalled)
            || ring_need_event(ee, self.evt_prod, self.evt_signalled);
        self.resp_signalled = self.resp_prod;
        self.evt_signalled = self.evt_prod;
        Ok(need)
    }

    /// Asks the host not to notify on new requests: a guest thread polls
    /// the ring until the next [`Guest::enable_notify`].  The event index is
    /// set just behind the consumer, where no submission passes it.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn disable_notify(&mut self) -> Result<()> {
        self.ok()?;
        self.win
            .store(hdr::REQ_EVENT, self.req_cons.wrapping_sub(1))
    }

    /// Asks the host to notify on the next request, then re-checks. Returns
    /// true if a request arrived meanwhile (do not sleep).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn enable_notify(&mut self) -> Result<bool> {
        self.ok()?;
        self.win.store(hdr::REQ_EVENT, self.req_cons)?;
        self.win.mb();
        Ok(self.win.load(hdr::REQ_PROD)? != self.req_cons)
    }

    /// Requests the host has published and the guest has not taken, as
    /// the window says now (a diagnostic: the host's index is not checked,
    /// so a corrupt one shows as a large number).
    pub fn requests_waiting(&self) -> u32 {
        self.win
            .load(hdr::REQ_PROD)
            .map_or(0, |p| p.wrapping_sub(self.req_cons))
    }
}

// Hostile mode. guest_stub's test-only `hostile=` parameter makes the guest
// write what a malicious driver VM would, so that tests can prove the host
// survives it (`guest_stub/hostile.rs`). The helpers below are its only
// users: they write peer-visible garbage on purpose, but only through this
// file's layout, so never outside the window. They exist only where tests
// need them: in the kernel modules' test flavour (`--cfg ikernel_test`,
// `make test-modules`) and in the cargo crate with its feature `hostile`
// (the ring's own tests); the shipped modules and ivt-shim have none.
#[cfg(any(ikernel_test, feature = "hostile"))]
impl<S: Shared> Guest<S> {
    /// Hostile mode only: returns the index the next response is published
    /// at.
    pub fn resp_prod(&self) -> u32 {
        self.resp_prod
    }

    /// Hostile mode only: publishes `wire` as the next response, as it is:
    /// no check of its id, length, result or reserved fields, no payload.
    /// Returns the index it was published at.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if the host has not consumed responses,
    /// [`RingError::IndexJump`] if the host's consumer index is corrupt.
    pub fn publish_raw_response(&mut self, wire: &WireResponse) -> Result<u32> {
        self.ok()?;
        let l = self.ident.layout;
        let cons = self.win.load(hdr::RESP_CONS)?;
        let used = self.resp_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        let idx = self.resp_prod;
        self.win.write(l.resp_slot(idx), &wire.encode())?;
        self.resp_prod = idx.wrapping_add(1);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(idx)
    }

    /// Hostile mode only: rewrites the response slot of index `idx` with
    /// `wire`, after it was published (a late change behind the host's
    /// back); publishes nothing.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn rewrite_response(&self, idx: u32, wire: &WireResponse) -> Result<()> {
        self.win
            .write(self.ident.layout.resp_slot(idx), &wire.encode())
    }

    /// Hostile mode only: forgets `req` as if it had been answered, without
    /// answering it, so that the host may reuse its tag.
    pub fn forget_request(&mut self, req: &Request) {
        if req.tag == req.id & self.ident.layout.mask() {
            self.set_busy(req.tag, false);
        }
    }

    /// Hostile mode only: moves the response producer index `by` entries
    /// ahead without writing any slot, and publishes it. Returns the new
    /// index.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn skip_responses(&mut self, by: u32) -> Result<u32> {
        self.resp_prod = self.resp_prod.wrapping_add(by);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(self.resp_prod)
    }

    /// Hostile mode only: moves the event producer index `by` entries ahead
    /// without writing any slot, and publishes it. Returns the new index.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn skip_events(&mut self, by: u32) -> Result<u32> {
        self.evt_prod = self.evt_prod.wrapping_add(by);
        self.win.store(hdr::EVT_PROD, self.evt_prod)?;
        Ok(self.evt_prod)
    }
}
