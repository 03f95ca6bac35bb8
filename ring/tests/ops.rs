// SPDX-License-Identifier: GPL-2.0

//! The per-op request constructors and their accessors (`ring/src/ops.rs`):
//! every op's fields land where `Documentation/ring.rst` says and read
//! back through the matching accessor only.

use ikernel_ring::{
    FdAt, IoctlArg, MmapReq, NewFile, NodeInfoLine, NodeInfoText, Op, RequestDesc, IOCTL_ARG_LOST,
    IOCTL_NEW_FILE, MMAP_SHARED, NODE_INFO_LINES, NODE_INFO_MAX, NODE_INFO_VALUE_MAX,
};

#[test]
fn constructors_fill_the_documented_fields() {
    let o = RequestDesc::open(3, 0o2);
    assert_eq!((o.op, o.export, o.flags, o.handle), (Op::Open, 3, 0o2, 0));
    let r = RequestDesc::release(3, 9);
    assert_eq!((r.op, r.export, r.handle), (Op::Release, 3, 9));
    let c = RequestDesc::cancel(3, 9, 0x1234);
    assert_eq!((c.op, c.handle, c.arg), (Op::Cancel, 9, 0x1234));
    assert_eq!(c.cancelled_id(), Some(0x1234));

    let rd = RequestDesc::read(4096, 100).on_file(1, 7, 0o4000);
    assert_eq!(
        (rd.op, rd.export, rd.handle, rd.flags),
        (Op::Read, 1, 7, 0o4000)
    );
    assert_eq!((rd.pos, rd.arg, rd.cmd), (4096, 100, 0));
    assert_eq!(rd.read_writable(), Some(100));

    let w = RequestDesc::write(10, 300);
    assert_eq!((w.op, w.pos, w.cmd, w.arg), (Op::Write, 10, 300, 0));
    assert_eq!(w.write_count(), Some(300));

    let l = RequestDesc::llseek(50, -20, 1);
    assert_eq!((l.op, l.pos, l.cmd), (Op::Llseek, 50, 1));
    assert_eq!(l.arg, (-20i64) as u64);
    assert_eq!(l.llseek_to(), Some((-20, 1)));

    let i = RequestDesc::ioctl(0x8004_6b11, 0xdead_beef, IoctlArg::Integer);
    assert_eq!(
        (i.op, i.cmd, i.arg, i.pos),
        (Op::Ioctl, 0x8004_6b11, 0xdead_beef, 0)
    );
    assert_eq!(i.ioctl_arg(), Some(IoctlArg::Integer));
}

#[test]
fn accessors_answer_only_their_op() {
    let w = RequestDesc::write(0, 5);
    assert_eq!(w.read_writable(), None);
    assert_eq!(w.ioctl_arg(), None);
    assert_eq!(w.llseek_to(), None);
    assert_eq!(w.cancelled_id(), None);
    assert_eq!(RequestDesc::read(0, 5).write_count(), None);
    let mut c = RequestDesc::cancel(0, 0, 1);
    c.arg = u64::from(u32::MAX) + 1;
    assert_eq!(c.cancelled_id(), None, "not an id");
}

#[test]
fn ioctl_shape_in_pos() {
    let b = IoctlArg::Bytes {
        size: 16383,
        readable: 16383,
        writable: 12,
    };
    assert_eq!(b.to_pos(), 16383 | 16383 << 16 | 12 << 32);
    assert_eq!(IoctlArg::from_pos(b.to_pos()), b);
    assert_eq!(IoctlArg::Lost.to_pos(), IOCTL_ARG_LOST);
    assert_eq!(IoctlArg::from_pos(IOCTL_ARG_LOST | 5), IoctlArg::Lost);
    assert_eq!(IoctlArg::from_pos(0), IoctlArg::Integer);
    // Size 0: no bytes travel, whatever else the host set.
    assert_eq!(IoctlArg::from_pos(7 << 16), IoctlArg::Integer);
    let d = RequestDesc::ioctl(1, 2, b);
    assert_eq!(d.ioctl_arg(), Some(b));
}

#[test]
fn new_file_aux_round_trips() {
    let f = NewFile {
        handle: 0x1234_5678,
        at: FdAt::Arg(0x150),
        cloexec: true,
        accmode: 2,
        nonblock: false,
        seekable: true,
    };
    let aux = f.to_aux();
    assert_ne!(aux & IOCTL_NEW_FILE, 0);
    assert_eq!(aux & 0xffff_ffff, 0x1234_5678);
    assert_eq!((aux >> 32) & 0xffff, 0x150);
    assert_eq!(NewFile::from_aux(aux), Some(f));
    let r = NewFile {
        at: FdAt::Result,
        cloexec: false,
        accmode: 0,
        nonblock: true,
        seekable: false,
        ..f
    };
    assert_eq!((r.to_aux() >> 32) & 0xffff, 0xffff);
    assert_eq!(NewFile::from_aux(r.to_aux()), Some(r));
    // An ordinary ioctl answer carries no file, whatever else is in aux.
    assert_eq!(NewFile::from_aux(0), None);
    assert_eq!(NewFile::from_aux(IOCTL_NEW_FILE - 1), None);
}

#[test]
fn mmap_round_trip() {
    let m = MmapReq {
        offset: 0x3000,
        len: 0x2000,
        prot: 3,
        shared: true,
    };
    let d = RequestDesc::mmap(m).on_file(2, 7, 0);
    assert_eq!((d.op, d.export, d.handle), (Op::Mmap, 2, 7));
    assert_eq!(d.cmd, 3 | MMAP_SHARED);
    assert_eq!(d.mmap_req(), Some(m));
    assert_eq!(RequestDesc::read(0, 1).mmap_req(), None);
    // Only the protection bits and the shared bit are read.
    let mut d = RequestDesc::mmap(MmapReq {
        prot: 0xff,
        shared: false,
        ..m
    });
    assert_eq!(d.cmd, 7);
    d.cmd |= 0xf0;
    assert_eq!(d.mmap_req().map(|m| (m.prot, m.shared)), Some((7, false)));
}

#[test]
fn node_info_accepts_what_sysfs_says() {
    let d = RequestDesc::node_info(3);
    assert_eq!((d.op, d.export, d.handle), (Op::NodeInfo, 3, 0));
    let t =
        b"SUBSYSTEM=gpio\nMAJOR=254\nMINOR=0\nDEVNAME=gpiochip0\nATTR{name}=rtc_cmos rtc_cmos\n";
    let info = NodeInfoText::parse(t).unwrap();
    assert_eq!(info.subsystem(), "gpio");
    assert_eq!(info.var("DEVNAME"), Some("gpiochip0"));
    assert_eq!(info.var("DRIVER"), None);
    let lines: Vec<_> = info.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4], NodeInfoLine::Attr("name", "rtc_cmos rtc_cmos"));
    // An empty value is a value (uevent has such lines).
    assert!(NodeInfoText::parse(b"SUBSYSTEM=misc\nDEVMODE=\n").is_some());
}

#[test]
fn node_info_refuses_junk() {
    let long_value = format!("SUBSYSTEM=x\nA={}\n", "v".repeat(NODE_INFO_VALUE_MAX + 1));
    let many: String = (0..NODE_INFO_LINES)
        .map(|i| format!("K{i}=1\n"))
        .collect::<String>();
    let too_long = format!("SUBSYSTEM=x\nA={}\n", "v".repeat(NODE_INFO_MAX));
    let bad: [&[u8]; 16] = [
        b"",
        b"SUBSYSTEM=gpio",                         // no final newline
        b"MAJOR=1\nSUBSYSTEM=gpio\n",              // SUBSYSTEM not first
        b"SUBSYSTEM=\n",                           // empty subsystem
        b"SUBSYSTEM=a/b\n",                        // not a word
        b"SUBSYSTEM=gpio\nSUBSYSTEM=misc\n",       // twice
        b"SUBSYSTEM=gpio\nA=1\nA=2\n",             // a key twice
        b"SUBSYSTEM=gpio\nATTR{n}=1\nATTR{n}=1\n", // an attribute twice
        b"SUBSYSTEM=gpio\nlower=1\n",              // not a variable name
        b"SUBSYSTEM=gpio\nATTR{a/b}=1\n",          // not an attribute name
        b"SUBSYSTEM=gpio\nNOEQUALS\n",
        b"SUBSYSTEM=gpio\n\n",           // an empty line
        b"SUBSYSTEM=gpio\nA=\x07\n",     // not printable
        b"SUBSYSTEM=gpio\nA=\xc3\xa9\n", // not ASCII
        long_value.as_bytes(),
        too_long.as_bytes(),
    ];
    for b in bad {
        assert!(
            NodeInfoText::parse(b).is_none(),
            "{:?}",
            String::from_utf8_lossy(b)
        );
    }
    let many = format!("SUBSYSTEM=x\n{many}");
    assert!(NodeInfoText::parse(many.as_bytes()).is_none());
    assert!(NodeInfoText::parse(b"SUBSYSTEM=x\nA=\r\n").is_none());
}

#[test]
fn remote_ioctl_steps_round_trip() {
    use ikernel_ring::{IoctlStep, IOCTL_ARG_REMOTE, IOCTL_STEP};
    assert_eq!(IoctlArg::Remote.to_pos(), IOCTL_ARG_REMOTE);
    assert_eq!(IoctlArg::from_pos(IOCTL_ARG_REMOTE), IoctlArg::Remote);
    for step in [
        IoctlStep::NeedPage {
            token: 7,
            addr: 0x7fff_1234_5000,
        },
        IoctlStep::WriteBack { token: u32::MAX },
    ] {
        let (r, aux) = step.to_answer();
        assert_eq!(IoctlStep::from_answer(r, aux), Some(Some(step)));
    }
    // The final answer is no step.
    assert_eq!(IoctlStep::from_answer(3, 0), None);
    // Junk steps: a token outside u32, zero, a stray bit, a write-back
    // with an address.
    for (r, aux) in [
        (0, IOCTL_STEP | 0x1000),
        (-5, IOCTL_STEP | 0x1000),
        (1 << 40, IOCTL_STEP | 0x1000),
        (1, IOCTL_STEP | 0x1001),
        (1, IOCTL_STEP | 1 << 63),
        (1, IOCTL_STEP | ikernel_ring::IOCTL_STEP_WRITE_BACK | 0x1000),
    ] {
        assert_eq!(IoctlStep::from_answer(r, aux), Some(None), "{r} {aux:#x}");
    }
}

#[test]
fn write_back_records() {
    use ikernel_ring::WriteBack;
    let mut buf = [0u8; 256];
    let a = WriteBack::put(&mut buf, 0x1000_0ffc, b"abcd").unwrap();
    let b = WriteBack::put(&mut buf[a..], 0x2000_0000, b"xyz").unwrap();
    assert_eq!((a, b), (24, 24));
    let got: Vec<_> = WriteBack::new(&buf[..a + b]).collect();
    assert_eq!(
        got,
        vec![
            Ok((0x1000_0ffc, &b"abcd"[..])),
            Ok((0x2000_0000, &b"xyz"[..]))
        ]
    );
    // A record may not cross a page, be empty or longer than a page.
    assert!(WriteBack::put(&mut buf, 0x1000_0ffe, b"abcd").is_none());
    assert!(WriteBack::put(&mut buf, 0x1000_0000, b"").is_none());
    // Junk: crossing a page, a length past the reply, a non-zero
    // reserved word, non-zero padding, a short header.
    let mut cross = [0u8; 24];
    cross[..8].copy_from_slice(&0x1ffeu64.to_ne_bytes());
    cross[8..12].copy_from_slice(&4u32.to_ne_bytes());
    let mut long = [0u8; 24];
    long[8..12].copy_from_slice(&9u32.to_ne_bytes());
    let mut reserved = [0u8; 24];
    reserved[8..12].copy_from_slice(&1u32.to_ne_bytes());
    reserved[12] = 1;
    let mut pad = [0u8; 24];
    pad[8..12].copy_from_slice(&1u32.to_ne_bytes());
    pad[20] = 1;
    for junk in [&cross[..], &long[..], &reserved[..], &pad[..], &pad[..10]] {
        let mut it = WriteBack::new(junk);
        assert_eq!(it.next(), Some(Err(())));
        assert_eq!(it.next(), None);
    }
}
