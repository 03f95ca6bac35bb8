// SPDX-License-Identifier: GPL-2.0

//! ivt-shim: the ikernel driver-VM monitor on KVM.

mod boot;
mod check;
mod config;
mod cpio;
mod cpuid;
mod events;
mod image;
mod list;
mod locks;
mod logging;
mod mptable;
mod notify;
mod pci;
mod pio;
mod restarts;
mod sandbox;
mod supervise;
mod vfio;
mod vm;
mod window;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Boots, wires and supervises ikernel driver VMs on KVM.
///
/// Log lines go to stderr as `TIME ivt-shim[NAME] LEVEL: message` (TIME in
/// RFC 3339 UTC; left out under journald, NAME from `[vm] name`).
#[derive(Parser)]
#[command(name = "ivt-shim", version)]
struct Cli {
    /// Short for --log-level debug.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Log messages up to this level (default info; wins over -v).
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    log_level: Option<LogLevel>,
    #[command(subcommand)]
    cmd: Cmd,
}

/// `--log-level`.
#[derive(Clone, Copy, ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for log::LevelFilter {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Builds (or finds in the cache) the initramfs of a driver-VM config.
    BuildImage {
        config: PathBuf,
        /// Rebuild even if a cached image matches.
        #[arg(long)]
        force: bool,
    },
    /// Boots and supervises the driver VM of a config.
    ///
    /// Exit status: 0 orderly shutdown (SIGTERM, SIGINT); 1 gave up
    /// (max_restarts within restart_window_s) or another error; 2 config
    /// errors; 3 exports configured but host_stub (/dev/ikernel) not loaded;
    /// 4 another shim holds one of the config's host node names or host
    /// ports (lock files in $IKERNEL_RUN_DIR, default /run/ikernel).
    Run {
        config: PathBuf,
        /// Do not use host_stub (/dev/ikernel): the shim owns the window and
        /// exports nothing.  Without it, a config with exports needs
        /// host_stub: run exits with status 3 if it is not loaded.
        #[arg(long)]
        no_host_stub: bool,
        /// Test hook: the guest panics after ready in this generation.
        #[cfg(feature = "test-hooks")]
        #[arg(long, value_name = "GEN")]
        test_panic_generation: Option<u32>,
        /// Test hook: freeze the vCPU once generation GEN is ready, so that
        /// its heartbeat stops.
        #[cfg(feature = "test-hooks")]
        #[arg(long, value_name = "GEN")]
        test_hang_generation: Option<u32>,
        /// Test hook: exit 0 once N generations reached ready.
        #[cfg(feature = "test-hooks")]
        #[arg(long, value_name = "N", default_value_t = 0)]
        exit_after_ready: u32,
        /// Rebuild the image even if a cached one matches.
        #[arg(long)]
        rebuild_image: bool,
        /// Append machine-readable state events (one JSON object per line:
        /// start, booting, ready, exports, down, restart, giving_up, exit)
        /// to FILE.
        #[arg(long, value_name = "FILE")]
        events: Option<PathBuf>,
        /// Least privilege after set-up: drop every capability and allow
        /// only the syscalls a driver VM's life needs.  enforce: any other
        /// syscall kills the shim (SIGSYS); log: the kernel allows and logs
        /// it (dmesg), to find what is missing; off: no filter, capabilities
        /// kept.
        #[arg(long, value_enum, value_name = "MODE", default_value_t = sandbox::Mode::Enforce)]
        seccomp: sandbox::Mode,
    },
    /// Validates a config file.
    CheckConfig { config: PathBuf },
    /// Says whether this machine can run driver VMs, and why not.
    Check,
    /// Lists the exported nodes on this host and their driver VMs (every
    /// shim's), from host_stub's sysfs attributes in /sys/class/ikernel.
    List {
        /// One JSON array instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Loads a config; from then on the log names its driver VM.
fn load(p: &std::path::Path) -> Result<config::Config, ExitCode> {
    let c = config::Config::load(p).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    logging::set_name(&c.vm_name());
    Ok(c)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.log_level, cli.verbose) {
        (Some(l), _) => l.into(),
        (None, true) => log::LevelFilter::Debug,
        (None, false) => log::LevelFilter::Info,
    };
    logging::init(level);
    let r = match cli.cmd {
        Cmd::CheckConfig { config } => match load(&config) {
            Ok(_) => {
                println!("{}: ok", config.display());
                return ExitCode::SUCCESS;
            }
            Err(c) => return c,
        },
        Cmd::BuildImage { config, force } => match load(&config) {
            Ok(c) => image::build(&c, force).map(|i| {
                println!("{}", i.path.display());
                0
            }),
            Err(c) => return c,
        },
        Cmd::Run {
            config,
            no_host_stub,
            #[cfg(feature = "test-hooks")]
            test_panic_generation,
            #[cfg(feature = "test-hooks")]
            test_hang_generation,
            #[cfg(feature = "test-hooks")]
            exit_after_ready,
            rebuild_image,
            events,
            seccomp,
        } => match load(&config) {
            Ok(c) => supervise::run(
                &c,
                &supervise::RunOpts {
                    no_host_stub,
                    #[cfg(feature = "test-hooks")]
                    hooks: supervise::TestHooks {
                        panic_generation: test_panic_generation,
                        hang_generation: test_hang_generation,
                        exit_after_ready,
                    },
                    rebuild_image,
                    config: config.clone(),
                    events,
                    seccomp,
                },
            ),
            Err(c) => return c,
        },
        Cmd::Check => Ok(check::check()),
        Cmd::List { json } => list::read_all(std::path::Path::new(list::CLASS_DIR)).map(|n| {
            if json {
                println!("{}", list::json(&n));
            } else {
                print!("{}", list::table(&n));
            }
            0
        }),
    };
    match r {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => ExitCode::from(u8::try_from(n).unwrap_or(1)),
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
