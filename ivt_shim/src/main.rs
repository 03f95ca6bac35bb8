// SPDX-License-Identifier: GPL-2.0

//! ivt-shim: the ikernel driver-VM monitor on KVM.

mod boot;
mod check;
mod config;
mod cpio;
mod cpuid;
mod events;
mod image;
mod mptable;
mod pio;
mod restarts;
mod supervise;
mod vm;
mod window;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};

/// Boots, wires and supervises ikernel driver VMs on KVM.
#[derive(Parser)]
#[command(name = "ivt-shim", version)]
struct Cli {
    /// Log debug messages too.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    cmd: Cmd,
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
    Run {
        config: PathBuf,
        /// Do not use host_stub (/dev/ikernel): the shim owns the window.
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
    },
    /// Validates a config file.
    CheckConfig { config: PathBuf },
    /// Says whether this machine can run driver VMs, and why not.
    Check,
}

struct Logger {
    verbose: bool,
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        self.verbose || m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "[{}.{:03}] ivt-shim {}: {}",
            t.as_secs(),
            t.subsec_millis(),
            r.level().as_str().to_lowercase(),
            r.args()
        );
    }
    fn flush(&self) {}
}

fn load(p: &std::path::Path) -> Result<config::Config, ExitCode> {
    config::Config::load(p).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logger = Box::leak(Box::new(Logger {
        verbose: cli.verbose,
    }));
    let _ = log::set_logger(logger);
    log::set_max_level(log::LevelFilter::Debug);
    let r = match cli.cmd {
        Cmd::CheckConfig { config } => match load(&config) {
            Ok(_) => {
                println!("{}: ok", config.display());
                return ExitCode::SUCCESS;
            }
            Err(c) => return c,
        },
        Cmd::BuildImage { config, force } => match load(&config) {
            Ok(c) => image::build(&c, force).map(|p| {
                println!("{}", p.display());
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
                },
            ),
            Err(c) => return c,
        },
        Cmd::Check => Ok(check::check()),
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
