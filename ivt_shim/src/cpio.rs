// SPDX-License-Identifier: GPL-2.0

//! A writer of "newc" cpio archives, the format of Linux initramfs images
//! (Documentation/driver-api/early-userspace/buffer-format.rst).

use std::io::{self, Write};

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Writes entries to `W`; call [`CpioWriter::finish`] at the end.
pub struct CpioWriter<W: Write> {
    out: W,
    ino: u32,
    pos: u64,
}

impl<W: Write> CpioWriter<W> {
    /// Starts an archive.
    pub fn new(out: W) -> Self {
        CpioWriter {
            out,
            ino: 1,
            pos: 0,
        }
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn pad4(&mut self) -> io::Result<()> {
        let n = (4 - (self.pos % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) -> io::Result<()> {
        let name = name.trim_start_matches('/');
        if name.is_empty() || name.contains('\0') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad cpio name"));
        }
        let size = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large for cpio"))?;
        let namesize = u32::try_from(name.len() + 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name too long"))?;
        let nlink = if mode & S_IFDIR != 0 && mode & S_IFREG == 0 {
            2
        } else {
            1
        };
        let ino = if name == "TRAILER!!!" { 0 } else { self.ino };
        self.ino += 1;
        let hdr = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{:08x}{size:08x}{:08x}{:08x}{:08x}{:08x}{namesize:08x}{:08x}",
            0, 0, 0, 0, 0, rdev.0, rdev.1, 0
        );
        self.put(hdr.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad4()?;
        self.put(data)?;
        self.pad4()
    }

    /// A directory.
    pub fn dir(&mut self, name: &str, perm: u32) -> io::Result<()> {
        self.entry(name, S_IFDIR | (perm & 0o7777), (0, 0), &[])
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, S_IFREG | (perm & 0o7777), (0, 0), data)
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, S_IFLNK | 0o777, (0, 0), target.as_bytes())
    }

    /// A character device node.
    pub fn chardev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(name, S_IFCHR | (perm & 0o7777), (major, minor), &[])
    }

    /// Writes the trailer and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, (0, 0), &[])?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_one_file() {
        let mut w = CpioWriter::new(Vec::new());
        w.file("/init", 0o755, b"hello").expect("write");
        let v = w.finish().expect("finish");
        // Header 110 bytes, "init\0" -> 115, padded to 116, data 5 -> 121, pad to 124.
        assert_eq!(&v[..6], b"070701");
        assert_eq!(&v[6..14], b"00000001");
        assert_eq!(&v[14..22], b"000081ed");
        assert_eq!(&v[54..62], b"00000005");
        assert_eq!(&v[94..102], b"00000005"); // namesize of "init\0"
        assert_eq!(&v[110..115], b"init\0");
        assert_eq!(&v[116..121], b"hello");
        assert_eq!(v.len() % 4, 0);
        let t = &v[124..];
        assert_eq!(&t[..6], b"070701");
        assert_eq!(&t[110..121], b"TRAILER!!!\0");
    }

    #[test]
    fn readable_by_cpio_tool() {
        let Ok(out) = std::process::Command::new("cpio").arg("--version").output() else {
            return; // Tool not installed: the layout test above still runs.
        };
        if !out.status.success() {
            return;
        }
        let mut w = CpioWriter::new(Vec::new());
        w.dir("bin", 0o755).expect("dir");
        w.file("bin/x", 0o644, b"abc").expect("file");
        w.symlink("bin/y", "x").expect("link");
        w.chardev("console", 0o600, 5, 1).expect("dev");
        let v = w.finish().expect("finish");
        let mut child = std::process::Command::new("cpio")
            .args(["-t", "-v", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn cpio");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&v)
            .expect("pipe");
        let o = child.wait_with_output().expect("cpio");
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{s}");
        assert!(s.contains("bin/x"), "{s}");
        assert!(s.contains("bin/y -> x"), "{s}");
        assert!(
            s.lines()
                .any(|l| l.starts_with('c') && l.contains("console")),
            "{s}"
        );
    }
}
