// SPDX-License-Identifier: GPL-2.0

//! The net ops' frame batches and interface description.

use ikernel_ring::*;

#[test]
fn batch_round_trip() {
    let mut buf = [0u8; 64];
    let mut w = BatchWriter::new(&mut buf);
    w.push(14).unwrap().fill(0xaa);
    w.push(20).unwrap().fill(0xbb);
    assert!(!w.fits(64 - 38 - 1), "a frame that does not fit is refused");
    assert!(w.push(27).is_none());
    assert_eq!((w.frames(), w.len()), (2, 38));
    let mut f = Frames::new(&buf[..38]);
    assert_eq!(f.next(), Some(&[0xaa; 14][..]));
    assert_eq!(f.next(), Some(&[0xbb; 20][..]));
    assert_eq!(f.next(), None);
    assert!(!f.malformed());
}

#[test]
fn hostile_batches_stop_without_reading_past() {
    // A record claiming more than is left.
    let b = [0x10, 0x00, 1, 2, 3];
    let mut f = Frames::new(&b);
    assert_eq!(f.next(), None);
    assert!(f.malformed());
    // A stray byte after a good record.
    let b = [0x01, 0x00, 9, 7];
    let mut f = Frames::new(&b);
    assert_eq!(f.next(), Some(&[9][..]));
    assert_eq!(f.next(), None);
    assert!(f.malformed());
    // Zero-length records are frames of no bytes (the caller drops them).
    let b = [0, 0, 0, 0];
    assert_eq!(Frames::new(&b).count(), 2);
    // Empty: no frames, not malformed.
    let mut f = Frames::new(&[]);
    assert_eq!(f.next(), None);
    assert!(!f.malformed());
}

#[test]
fn net_info_wire() {
    let i = NetInfo {
        mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
        mtu: 1500,
    };
    let b = i.encode();
    assert_eq!(NetInfo::decode(&b), Some(i));
    assert_eq!(NetInfo::decode(&b[..11]), None);
    let mut bad = b;
    bad[7] = 1;
    assert_eq!(NetInfo::decode(&bad), None);
}

#[test]
fn net_requests() {
    let x = RequestDesc::net_xmit(4, 9);
    assert_eq!((x.op, x.export, x.xmit_frames()), (Op::NetXmit, 4, Some(9)));
    let r = RequestDesc::net_recv(4, 5000);
    assert_eq!(r.recv_wait_ms(), Some(NET_RECV_WAIT_MAX_MS));
    let hostile = RequestDesc {
        arg: u64::MAX,
        ..RequestDesc::net_recv(4, 1)
    };
    assert_eq!(hostile.recv_wait_ms(), Some(NET_RECV_WAIT_MAX_MS));
    assert_eq!(RequestDesc::net_info(2).op, Op::NetInfo);
    assert_eq!(Op::try_from(0x101), Ok(Op::NetRecv));
    assert_eq!(Op::try_from(0x102), Ok(Op::NetInfo));
    assert_eq!(x.recv_wait_ms(), None);
}
