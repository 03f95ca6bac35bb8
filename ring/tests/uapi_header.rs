// SPDX-License-Identifier: GPL-2.0

//! `ring/src/uapi.rs` against `include/uapi/linux/ikernel.h`: compiles a C
//! program against the header that prints every number `uapi::C_NUMBERS`
//! names (macro values, `sizeof`, `offsetof`) and compares them, and checks
//! that every constant macro and struct of the header is among them, so
//! that neither side can change alone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use ikernel_ring::uapi::C_NUMBERS;

/// The repository, as cargo says when it runs the test.  Not the
/// compile-time `env!`: ring/check.sh shares one target directory between
/// checkouts (its cache), and cargo may run a binary built in another
/// checkout of the same source, which names that checkout (a soak failed so
/// on 2026-12-05: the binary looked for the header in CI's clone).
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("ring/ has a parent")
        .to_path_buf()
}

fn header() -> PathBuf {
    root().join("include/uapi/linux/ikernel.h")
}

/// What the C compiler says each of `C_NUMBERS` is.
fn c_values() -> BTreeMap<String, u64> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("uapi_header");
    std::fs::create_dir_all(&dir).expect("tmpdir");
    let mut prog = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <linux/ikernel.h>\n\nint main(void)\n{\n",
    );
    for (name, _) in C_NUMBERS {
        prog.push_str(&format!(
            "\tprintf(\"%s=%llu\\n\", \"{name}\", (unsigned long long)({name}));\n"
        ));
    }
    prog.push_str("\treturn 0;\n}\n");
    let src = dir.join("uapi_numbers.c");
    let exe = dir.join("uapi_numbers");
    std::fs::write(&src, prog).expect("write C source");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let inc = root().join("include/uapi");
    let out = Command::new(&cc)
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(&inc)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(
        out.status.success(),
        "{cc} failed on the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("run the C program");
    assert!(run.status.success());
    String::from_utf8(run.stdout)
        .expect("ASCII")
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once('=').expect("name=value");
            (k.to_string(), v.parse().expect("number"))
        })
        .collect()
}

#[test]
fn rust_numbers_are_the_headers() {
    let c = c_values();
    let mut wrong = Vec::new();
    for (name, rust) in C_NUMBERS {
        let cv = c.get(*name).copied();
        if cv != Some(*rust) {
            wrong.push(format!("{name}: C {cv:?}, Rust {rust}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "ring/src/uapi.rs and include/uapi/linux/ikernel.h disagree:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn every_header_number_is_checked() {
    let text = std::fs::read_to_string(header()).expect("read the header");
    let names: Vec<&str> = C_NUMBERS.iter().map(|(n, _)| *n).collect();
    let mut missing = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        let (Some("#define"), Some(name)) = (w.next(), w.next()) else {
            continue;
        };
        // Function-like macros (the ioctl argument shape) and the guard.
        if name.contains('(') || name == "_UAPI_LINUX_IKERNEL_H" {
            continue;
        }
        if !names.contains(&name) {
            missing.push(name.to_string());
        }
    }
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("struct ikernel_") {
            let s = rest.trim_end_matches(" {");
            if rest.ends_with(" {")
                && !names.contains(&format!("sizeof(struct ikernel_{s})").as_str())
            {
                missing.push(format!("sizeof(struct ikernel_{s})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "in include/uapi/linux/ikernel.h but not in ring/src/uapi.rs's C_NUMBERS: {missing:?}"
    );
}

/// Compiles `main_body` (the statements of `main`) against the header as
/// `NAME.c` and returns what the program prints.
fn run_c(name: &str, main_body: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("uapi_header");
    std::fs::create_dir_all(&dir).expect("tmpdir");
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n#include <linux/ikernel.h>\nint main(void)\n{{\n{main_body}\treturn 0;\n}}\n"
        ),
    )
    .expect("write");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let ok = Command::new(&cc)
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(root().join("include/uapi"))
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("cc")
        .success();
    assert!(ok, "{cc} failed on {}", src.display());
    let out = Command::new(&exe).output().expect("run");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn ioctl_arg_shape_macros() {
    // The function-like macros of the header against the ring's encoding.
    let shape = ikernel_ring::IoctlArg::Bytes {
        size: 300,
        readable: 200,
        writable: 100,
    };
    let pos = shape.to_pos();
    let out = run_c(
        "uapi_shape",
        &format!(
            "\tunsigned long long p = {pos}ULL;\n\
             \tprintf(\"%llu %llu %llu %d\\n\", IKERNEL_IOCTL_ARG_SIZE(p), IKERNEL_IOCTL_ARG_R(p),\n\
             \t       IKERNEL_IOCTL_ARG_W(p), !!(p & IKERNEL_IOCTL_ARG_LOST));\n"
        ),
    );
    assert_eq!(out, "300 200 100 0");
}

#[test]
fn new_file_aux_macro() {
    // IKERNEL_NEW_FILE_AUX (served's encoder) against NewFile::from_aux.
    let text = run_c(
        "uapi_new_file",
        "\tprintf(\"%llu %llu\\n\",\n\
         \t       (unsigned long long)IKERNEL_NEW_FILE_AUX(4097, 24, 1, 2, 0, 1),\n\
         \t       (unsigned long long)IKERNEL_NEW_FILE_AUX(3, IKERNEL_NEW_FILE_IN_RESULT, 0, 0, 8, 0));\n",
    );
    let v: Vec<u64> = text
        .split_whitespace()
        .map(|w| w.parse().expect("number"))
        .collect();
    let f = |aux| ikernel_ring::NewFile::from_aux(aux).expect("a new file");
    let a = f(v[0]);
    assert_eq!(a.handle, 4097);
    assert_eq!(a.at, ikernel_ring::FdAt::Arg(24));
    assert!(a.cloexec && a.seekable && !a.nonblock);
    assert_eq!(a.accmode, 2);
    let b = f(v[1]);
    assert_eq!((b.handle, b.at), (3, ikernel_ring::FdAt::Result));
    assert!(!b.cloexec && !b.seekable && b.nonblock);
    assert_eq!(b.accmode, 0);
}
