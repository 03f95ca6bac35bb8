// SPDX-License-Identifier: GPL-2.0

//! Net exports: a host network interface whose frames a network interface
//! of the driver VM sends and receives.
//!
//! The driver VM's serving process holds the guest end (`ikernel-served`,
//! an `AF_PACKET` socket on, say, `eth0`, which an unmodified NIC driver
//! runs).  Here, `netdev.c` registers the host interface and this file
//! moves its frames over the channel's ring in batches (`ring::net`):
//!
//! - **Transmit.**  `ndo_start_xmit` only queues the skb and, once per
//!   burst, queues the transmit work ([`NetExport::tx_run`]), which packs
//!   as many queued frames as fit a slot into one `NET_XMIT` request: one
//!   doorbell per batch.  Nothing on the transmit path of the stack sleeps
//!   or takes a mutex.
//! - **Receive.**  While the interface is up, the receive work
//!   ([`NetExport::rx_run`]) keeps one `NET_RECV` request posted: the
//!   guest answers it with the frames it has, or as soon as one comes
//!   (within [`RECV_WAIT_MS`]), into a buffer of a slot's size.  Each frame
//!   is checked (length against the interface's MTU, records against the
//!   reply) and handed to NAPI, which passes it to GRO.  Bad frames are
//!   dropped and counted, never delivered.
//! - **Carrier** follows the driver VM: it goes off when a request fails
//!   (the VM died, restarts, broke the ring or lost the interface) and on
//!   when the guest answers again.  Each new generation is asked for its
//!   interface's MAC address and MTU (`NET_INFO`): the host interface
//!   takes the address, and its MTU is capped at the guest's.
//!
//! Everything the guest returns is its word: result counts, reply lengths,
//! frame records and the address are all checked here, on top of the
//! ring's own checks of the response.

use core::ops::RangeInclusive;
use kernel::{
    alloc::KVec,
    ffi::{
        c_int,
        c_void, //
    },
    new_mutex, new_work, pr_info,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Arc,
        ArcBorrow,
        Mutex,
        SetOnce, //
    },
    time::delay::fsleep,
    time::Delta,
    workqueue::{
        Work,
        WorkItem, //
    },
};

use crate::{
    channel::{
        nul_text,
        Answer,
        Channel,
        Wait, //
    },
    ring::{
        uapi::{
            ExportNetArg,
            IFNAME_MAX,
            NAME_MAX, //
        },
        BatchWriter,
        Frames,
        NetInfo,
        RequestDesc,
        NET_FRAME_MAX,
        NET_INFO_SIZE,
        NET_REC_HDR, //
    },
    sys::{
        netdev::{
            flush_work,
            DevRef,
            NetDev, //
        },
        work_queue,
    },
};

/// Ethernet header bytes: the shortest frame accepted from the guest.
const ETH_HLEN: usize = 14;
/// Bytes a frame may have beyond the MTU: the Ethernet header and one VLAN
/// tag.
const FRAME_OVERHEAD: usize = ETH_HLEN + 4;
/// Smallest MTU of a net export (`ETH_MIN_MTU`).
const MTU_MIN: u32 = 68;
/// How long a `NET_RECV` may wait in the guest for its first frame.
const RECV_WAIT_MS: u32 = 500;
/// Deadline of every net request: a guest that does not answer within it
/// loses the carrier.
const CALL_TIMEOUT_MS: u32 = 5000;
/// Pause between tries while the driver VM does not serve the interface.
const RETRY_MS: u64 = 100;

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` at module initialisation, before any
    // net export exists.
    unsafe(uninit) static NETS: Mutex<KVec<Arc<NetExport>>> = KVec::new();
}

/// The table of net exports, for the statistics; module lifetime.
pub(crate) struct Table(());

impl Table {
    /// Prepares the table (module initialisation).
    pub(crate) fn init() -> Self {
        // SAFETY: Called once, at module initialisation, before any export.
        unsafe { NETS.init() };
        Self(())
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // A static is never dropped: free the table's buffer here.
        drop(core::mem::replace(&mut *NETS.lock(), KVec::new()));
    }
}

/// Writes one statistics line per net export (`ikernel/stats`).
pub(crate) fn write_stats(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    for n in NETS.lock().iter() {
        n.write_stats(f)?;
    }
    Ok(())
}

/// Counters of one net export, beyond the interface's own statistics,
/// by [`Counter`].
struct NetStats([Atomic<u64>; COUNTERS.len()]);

/// The counters of [`NetStats`].
#[derive(Clone, Copy)]
enum Counter {
    /// `NET_XMIT` requests sent.
    TxBatches,
    /// Frames the guest took.
    TxFrames,
    /// Frames lost because the request failed or the guest refused them.
    TxLost,
    /// `NET_RECV` requests answered.
    RxBatches,
    /// Frames delivered.
    RxFrames,
    /// Frames too short for an Ethernet header or longer than the MTU
    /// allows.
    RxBadLength,
    /// Replies whose records overran the reply, or whose frame count was
    /// not the result.
    RxBadBatch,
    /// Requests that failed (the VM down or restarting, a deadline, an
    /// error from the guest).
    Failures,
    /// Carrier changes.
    CarrierOn,
    CarrierOff,
    /// `NET_INFO` answers refused (malformed, or no unicast address).
    BadInfo,
}

/// [`Counter`]s by index, as the statistics line names them.
const COUNTERS: [(Counter, &CStr); 11] = [
    (Counter::TxBatches, c"tx_batches"),
    (Counter::TxFrames, c"tx_frames"),
    (Counter::TxLost, c"tx_lost"),
    (Counter::RxBatches, c"rx_batches"),
    (Counter::RxFrames, c"rx_frames"),
    (Counter::RxBadLength, c"rx_bad_length"),
    (Counter::RxBadBatch, c"rx_bad_batch"),
    (Counter::Failures, c"failures"),
    (Counter::CarrierOn, c"carrier_on"),
    (Counter::CarrierOff, c"carrier_off"),
    (Counter::BadInfo, c"bad_info"),
];

// Each counter's entry is at its discriminant.
const _: () = {
    let mut i = 0;
    while i < COUNTERS.len() {
        // CAST: as in `NetStats::add`.
        assert!(COUNTERS[i].0 as usize == i);
        i += 1;
    }
};

impl NetStats {
    fn new() -> Self {
        Self([const { Atomic::new(0) }; COUNTERS.len()])
    }

    fn add(&self, c: Counter, n: u64) {
        // CAST: `Counter` is a field-less enum, its discriminant the index.
        if let Some(a) = self.0.get(c as usize) {
            a.add(n, Relaxed);
        }
    }
}

/// One net export: the host interface's state shared with its work.
#[pin_data]
pub(crate) struct NetExport {
    channel: Arc<Channel>,
    /// Index of the guest interface in the driver VM's export list.
    index: u32,
    /// Host interface name, NUL padded.
    name: [u8; NAME_MAX],
    /// Guest interface name, NUL padded (informational).
    guest_if: [u8; NAME_MAX],
    /// The host device; set once registered.
    dev: SetOnce<DevRef>,
    /// Between `ndo_open` and `ndo_stop`.
    up: Atomic<bool>,
    /// The carrier as last set here.
    carrier: Atomic<bool>,
    /// The generation whose `NET_INFO` was taken (0: none).
    info_generation: Atomic<u32>,
    #[pin]
    tx_work: Work<NetExport, 1>,
    #[pin]
    rx_work: Work<NetExport, 2>,
    /// A slot's worth of buffer for each direction.
    #[pin]
    tx_buf: Mutex<KVec<u8>>,
    #[pin]
    rx_buf: Mutex<KVec<u8>>,
    stats: NetStats,
}

kernel::impl_has_work! {
    impl HasWork<Self, 1> for NetExport { self.tx_work }
    impl HasWork<Self, 2> for NetExport { self.rx_work }
}

impl WorkItem<1> for NetExport {
    type Pointer = Arc<NetExport>;

    fn run(this: Arc<NetExport>) {
        this.tx_run();
    }
}

impl WorkItem<2> for NetExport {
    type Pointer = Arc<NetExport>;

    fn run(this: Arc<NetExport>) {
        this.rx_run();
    }
}

/// Checks a NUL-padded interface name: 1-15 bytes of `[A-Za-z0-9_.-]`
/// before the NUL, not `.` or `..`, nothing but NULs after.
fn valid_ifname(n: &[u8; NAME_MAX]) -> bool {
    let len = n.iter().position(|&c| c == 0).unwrap_or(NAME_MAX);
    let (name, rest) = n.split_at(len);
    (1..=IFNAME_MAX).contains(&len)
        && name != b"."
        && name != b".."
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        && rest.iter().all(|&c| c == 0)
}

/// The owner of a net export: the control file keeps it, and dropping it
/// unregisters the host interface.
pub(crate) struct NetHandle {
    dev: Option<NetDev>,
    net: Arc<NetExport>,
}

impl NetHandle {
    /// Creates the host interface of `arg` on `channel`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad name, MTU or flags (an MTU whose frames do not
    /// fit one slot's buffer is bad), `ENXIO` without a window, `EEXIST`
    /// if an interface of that name exists, `ENOMEM`.
    pub(crate) fn create(channel: Arc<Channel>, arg: &ExportNetArg) -> Result<Self> {
        if !valid_ifname(&arg.name) || !valid_ifname(&arg.guest_if) || arg.flags != 0 {
            return Err(EINVAL);
        }
        channel.check_exportable()?;
        let piece = channel.piece_max()?;
        let max_frame = piece.saturating_sub(NET_REC_HDR).min(NET_FRAME_MAX);
        let max_mtu = u32::try_from(max_frame.saturating_sub(FRAME_OVERHEAD))?;
        if !(MTU_MIN..=max_mtu).contains(&arg.mtu) {
            return Err(EINVAL);
        }
        channel.name_vm(arg.vm_name);
        let buf = || -> Result<KVec<u8>> { Ok(KVec::from_elem(0u8, piece, GFP_KERNEL)?) };
        let (tx, rx) = (buf()?, buf()?);
        let net = Arc::pin_init(
            try_pin_init!(NetExport {
                channel,
                index: arg.index,
                name: arg.name,
                guest_if: arg.guest_if,
                dev: SetOnce::new(),
                up: Atomic::new(false),
                carrier: Atomic::new(false),
                info_generation: Atomic::new(0),
                tx_work <- new_work!("ikernel::NetExport::tx"),
                rx_work <- new_work!("ikernel::NetExport::rx"),
                tx_buf <- new_mutex!(tx, "ikernel::NetExport::tx_buf"),
                rx_buf <- new_mutex!(rx, "ikernel::NetExport::rx_buf"),
                stats: NetStats::new(),
            }),
            GFP_KERNEL,
        )?;
        let mut nets = NETS.lock();
        nets.reserve(1, GFP_KERNEL)?;
        let rust = Arc::as_ptr(&net).cast_mut().cast::<c_void>();
        // SAFETY: `rust` is the `NetExport` that `net` keeps alive, and the
        // handle returned drops its `NetDev` before `net`.  The `DevRef` is
        // set before the device is registered, so every callback finds it,
        // and is used only by `net`'s callbacks and the work they start,
        // between open and stop, which ends before the `NetDev` is dropped.
        let dev = unsafe {
            NetDev::create(&arg.name, arg.mtu, max_mtu, rust, |d| {
                let _ = net.dev.populate(d);
            })?
        };
        nets.push(net.clone(), GFP_KERNEL)?;
        drop(nets);
        pr_info!(
            "ikernel: net export {} (ifindex {}, mtu {}, at most {}) -> guest {} of driver VM {}\n",
            nul_text(&arg.name),
            dev.ifindex(),
            arg.mtu,
            max_mtu,
            nul_text(&arg.guest_if),
            net.channel.vm_name()
        );
        Ok(Self {
            dev: Some(dev),
            net,
        })
    }

    /// The host interface's index.
    pub(crate) fn ifindex(&self) -> u32 {
        self.dev.as_ref().map_or(0, NetDev::ifindex)
    }
}

impl Drop for NetHandle {
    fn drop(&mut self) {
        // Unregistering closes the interface (`stop`): no work runs after.
        drop(self.dev.take());
        NETS.lock().retain(|n| !core::ptr::eq(&**n, &*self.net));
    }
}

/// The lengths of a frame that may cross the interface `dev` at its
/// current MTU: an Ethernet header at least, the MTU plus header and one
/// VLAN tag at most.
fn frame_lengths(dev: &DevRef) -> RangeInclusive<usize> {
    ETH_HLEN..=usize::try_from(dev.mtu()).unwrap_or(0) + FRAME_OVERHEAD
}

impl NetExport {
    fn dev(&self) -> Option<&DevRef> {
        self.dev.as_ref()
    }

    /// One net request to the guest; an error (failed call, or an errno
    /// the guest answered) is counted as a failure.
    fn call(&self, desc: &RequestDesc, payload: &[u8], reply: &mut [u8]) -> Result<Answer> {
        let r = self.channel.call(
            None,
            desc,
            payload,
            reply,
            CALL_TIMEOUT_MS,
            Wait::Interruptible,
        );
        let r = r.and_then(|a| match a.result {
            0.. => Ok(a),
            e => Err(Error::from_errno(c_int::try_from(e).unwrap_or(-5))),
        });
        if r.is_err() {
            self.stats.add(Counter::Failures, 1);
        }
        r
    }

    fn set_carrier(&self, on: bool) {
        if self.carrier.load(Relaxed) == on {
            return;
        }
        if let Some(d) = self.dev() {
            d.carrier(on);
        }
        self.carrier.store(on, Relaxed);
        let c = if on {
            Counter::CarrierOn
        } else {
            Counter::CarrierOff
        };
        self.stats.add(c, 1);
    }

    /// `ndo_open`: start receiving.
    fn open(self: ArcBorrow<'_, Self>) -> Result {
        self.up.store(true, Release);
        let _ = work_queue().enqueue::<Arc<NetExport>, 2>(self.into());
        Ok(())
    }

    /// `ndo_stop`: stop both works and wait for them.
    fn stop(&self) {
        self.up.store(false, Release);
        // SAFETY: Both work items are initialised fields of `self`, which
        // the caller's reference keeps alive during the flushes.
        unsafe {
            flush_work(Work::raw_get(&self.tx_work));
            flush_work(Work::raw_get(&self.rx_work));
        }
        self.set_carrier(false);
    }

    /// Sends the queued frames, a batch per request, until none is left.
    fn tx_run(&self) {
        let Some(dev) = self.dev() else {
            return;
        };
        let mut buf = self.tx_buf.lock();
        while self.up.load(Acquire) {
            let lengths = frame_lengths(dev);
            let mut w = BatchWriter::new(&mut buf);
            let mut bytes = 0u64;
            while let Some(len) = dev.tx_head_len() {
                if !lengths.contains(&len) || (w.is_empty() && !w.fits(len)) {
                    dev.tx_drop_head();
                    continue;
                }
                let Some(dst) = w.push(len) else {
                    break;
                };
                dev.tx_take(dst);
                bytes += u64::try_from(len).unwrap_or(0);
            }
            if w.is_empty() {
                return;
            }
            let (frames, n) = (w.frames(), w.len());
            let desc = RequestDesc::net_xmit(self.index, frames);
            let r = self.call(&desc, buf.get(..n).unwrap_or(&[]), &mut []);
            self.stats.add(Counter::TxBatches, 1);
            // The guest's count is its word: at most what was sent.
            let sent = r.map_or(0, |a| {
                u32::try_from(a.result).unwrap_or(u32::MAX).min(frames)
            });
            self.stats.add(Counter::TxFrames, u64::from(sent));
            self.stats.add(Counter::TxLost, u64::from(frames - sent));
            let sent_bytes = if sent == frames { bytes } else { 0 };
            dev.tx_done(sent, sent_bytes, frames - sent);
        }
    }

    /// Keeps a receive request posted while the interface is up.
    fn rx_run(&self) {
        let Some(dev) = self.dev() else {
            return;
        };
        while self.up.load(Acquire) {
            let ok = self.refresh_info(dev) && self.recv_once(dev).is_ok();
            self.set_carrier(ok);
            if !ok && self.up.load(Acquire) {
                fsleep(Delta::from_millis(RETRY_MS as i64));
            }
        }
    }

    /// Asks a new generation for its interface's address and MTU; true
    /// when the host interface has the address and an MTU the guest's
    /// allows (or they were taken before).
    fn refresh_info(&self, dev: &DevRef) -> bool {
        let gen = self.channel.generation();
        if gen != 0 && self.info_generation.load(Relaxed) == gen {
            return true;
        }
        let mut reply = [0u8; NET_INFO_SIZE];
        let Ok(a) = self.call(&RequestDesc::net_info(self.index), &[], &mut reply) else {
            return false;
        };
        let info = reply.get(..a.len).and_then(NetInfo::decode);
        let Some(info) = info else {
            self.stats.add(Counter::BadInfo, 1);
            return false;
        };
        match dev.set_info(&info.mac, info.mtu) {
            Ok(()) => {
                self.info_generation.store(a.generation, Relaxed);
                true
            }
            // The RTNL is busy (maybe with our own stop): next round.
            Err(e) if e == EBUSY => false,
            Err(_) => {
                self.stats.add(Counter::BadInfo, 1);
                false
            }
        }
    }

    /// One `NET_RECV`: delivers the frames of its reply.
    fn recv_once(&self, dev: &DevRef) -> Result {
        let mut buf = self.rx_buf.lock();
        let a = self.call(
            &RequestDesc::net_recv(self.index, RECV_WAIT_MS),
            &[],
            &mut buf,
        )?;
        self.stats.add(Counter::RxBatches, 1);
        let lengths = frame_lengths(dev);
        let mut frames = Frames::new(buf.get(..a.len).unwrap_or(&[]));
        let (mut records, mut good, mut bad_len) = (0u64, 0u64, 0u32);
        for f in frames.by_ref() {
            records += 1;
            if !lengths.contains(&f.len()) {
                bad_len += 1;
                continue;
            }
            // A frame lost for memory is counted as dropped by `rx`.
            if dev.rx(f).is_ok() {
                good += 1;
            }
        }
        dev.rx_flush();
        let claimed = u64::try_from(a.result).unwrap_or(u64::MAX);
        if frames.malformed() || claimed != records {
            self.stats.add(Counter::RxBadBatch, 1);
        }
        if bad_len != 0 {
            self.stats.add(Counter::RxBadLength, u64::from(bad_len));
            dev.rx_bad(bad_len, bad_len);
        }
        self.stats.add(Counter::RxFrames, good);
        Ok(())
    }

    /// Writes this export's statistics line.
    fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "net {} index {} guest_if {} up {} carrier {} ",
            nul_text(&self.name),
            self.index,
            nul_text(&self.guest_if),
            u32::from(self.up.load(Relaxed)),
            u32::from(self.carrier.load(Relaxed))
        )?;
        for ((_, name), v) in COUNTERS.iter().zip(self.stats.0.iter()) {
            write!(f, "{} {} ", name.to_str().unwrap_or("?"), v.load(Relaxed))?;
        }
        self.channel.write_stats(f)?;
        writeln!(f)
    }
}

/// Borrows the export behind a callback's `rust` pointer.
///
/// # Safety
///
/// `rust` is the pointer [`NetHandle::create`] registered, whose export
/// its handle keeps alive while the device is registered.
unsafe fn borrow<'a>(rust: *mut c_void) -> ArcBorrow<'a, NetExport> {
    // SAFETY: By the function's contract.
    unsafe { ArcBorrow::from_raw(rust.cast::<NetExport>().cast_const()) }
}

/// `ndo_open` of a net export's interface (RTNL held).
#[no_mangle]
extern "C" fn ikernel_net_open(rust: *mut c_void) -> c_int {
    // SAFETY: `netdev.c` passes the pointer it was created with, and calls
    // this only while the device is registered.
    let net = unsafe { borrow(rust) };
    match net.open() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `ethtool -S`: how many counters there are.
#[no_mangle]
extern "C" fn ikernel_net_stats_count() -> c_int {
    // CAST: a handful of counters.
    COUNTERS.len() as c_int
}

/// `ethtool -S`: the name of counter `i` (NUL-terminated, static), or
/// NULL past the last.
#[no_mangle]
extern "C" fn ikernel_net_stat_name(i: c_int) -> *const kernel::ffi::c_char {
    usize::try_from(i)
        .ok()
        .and_then(|i| COUNTERS.get(i))
        .map_or(core::ptr::null(), |(_, n)| n.as_char_ptr())
}

/// `ethtool -S`: counter `i`'s value (0 past the last).
#[no_mangle]
extern "C" fn ikernel_net_stat(rust: *mut c_void, i: c_int) -> u64 {
    // SAFETY: As in `ikernel_net_open`.
    let net = unsafe { borrow(rust) };
    usize::try_from(i)
        .ok()
        .and_then(|i| net.stats.0.get(i))
        .map_or(0, |a| a.load(Relaxed))
}

/// `ndo_stop` of a net export's interface (RTNL held).
#[no_mangle]
extern "C" fn ikernel_net_stop(rust: *mut c_void) {
    // SAFETY: As in `ikernel_net_open`.
    let net = unsafe { borrow(rust) };
    net.stop();
}

/// `ndo_start_xmit` queued frames: schedule the transmit work.  Atomic
/// context (softirq): only queues work.
#[no_mangle]
extern "C" fn ikernel_net_tx_kick(rust: *mut c_void) {
    // SAFETY: As in `ikernel_net_open`.
    let net = unsafe { borrow(rust) };
    if net.up.load(Acquire) {
        // Already queued is fine: that run takes these frames too.
        let _ = work_queue().enqueue::<Arc<NetExport>, 1>(net.into());
    }
}
