// SPDX-License-Identifier: GPL-2.0

//! The shim's log on stderr.
//!
//! One line per message: `TIME ivt-shim[NAME] LEVEL: message`, where TIME
//! is RFC 3339 in UTC with milliseconds (`2026-12-05T08:01:02.345Z`) and
//! NAME the driver VM's `[vm] name` (absent before a configuration is
//! loaded: `ivt-shim LEVEL: ...`).  Under journald, which stamps every
//! line itself, the time is left out and the line starts with the
//! syslog priority (`<3>` for errors ...), which journald turns into the
//! entry's priority (systemd.exec(5), `SyslogLevelPrefix=`).
//!
//! The words of the messages are for people; programs read the state
//! events (`--events`, events.rs).

use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter};

/// The driver VM's name, once known.
static NAME: OnceLock<String> = OnceLock::new();

/// Names the driver VM in every later line (the first call wins).
pub fn set_name(name: &str) {
    let _ = NAME.set(name.to_string());
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01 in
/// the proleptic Gregorian calendar.
///
/// Counts in 400-year eras, which all have the same 146097 days, starting
/// each year on 1 March so that the leap day is the last day of its year.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Day 0 is 1970-01-01; shift the origin to 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    // Day of the era, 0..=146096.
    let doe = z.rem_euclid(146_097);
    // Year of the era, 0..=399: 365 days a year, less the leap days (one
    // every 4 years, none every 100, one again at 400).
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year from 1 March
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // CAST: month is in 1..=12 and day in 1..=31 by construction.
    (year, month as u32, day as u32)
}

/// `t` as RFC 3339 in UTC with milliseconds, e.g. `2026-12-05T08:01:02.345Z`.
/// Times before 1970 are written as 1970-01-01T00:00:00.000Z.
pub fn rfc3339_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, da) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{da:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        d.subsec_millis()
    )
}

/// Whether `journal_stream` (the value of `$JOURNAL_STREAM`, `DEV:INODE`
/// as systemd sets it) names the file `dev`/`ino` (stderr's).
pub fn is_journal_stream(journal_stream: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = journal_stream.trim().split_once(':') else {
        return false;
    };
    d.parse() == Ok(dev) && i.parse() == Ok(ino)
}

/// Whether stderr goes to journald: `$JOURNAL_STREAM` is set and names
/// stderr's device and inode (so a variable inherited by a process whose
/// stderr was redirected elsewhere does not count).
pub fn stderr_is_journal() -> bool {
    let Some(v) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    // SAFETY: `st` is a plain C struct; fstat writes it whole on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on fd 2 with a valid out pointer.
    if unsafe { libc::fstat(2, &mut st) } != 0 {
        return false;
    }
    is_journal_stream(&v.to_string_lossy(), st.st_dev, st.st_ino)
}

/// The syslog priority of a level (sd-daemon(3): `<3>` error ...).
fn priority(l: Level) -> u8 {
    match l {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// One log line, without its newline: with a time, or, for journald
/// (`time` `None`), with the priority prefix instead.
pub fn format_line(time: Option<SystemTime>, name: Option<&str>, l: Level, msg: &str) -> String {
    let head = match time {
        Some(t) => format!("{} ", rfc3339_utc(t)),
        None => format!("<{}>", priority(l)),
    };
    let who = match name {
        Some(n) => format!("ivt-shim[{n}]"),
        None => "ivt-shim".to_string(),
    };
    format!("{head}{who} {}: {msg}", l.as_str().to_lowercase())
}

/// The logger: messages up to `level`, on stderr.
pub struct Logger {
    level: LevelFilter,
    journal: bool,
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= self.level
    }
    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let time = (!self.journal).then(SystemTime::now);
        let line = format_line(
            time,
            NAME.get().map(String::as_str),
            r.level(),
            &r.args().to_string(),
        );
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    fn flush(&self) {}
}

/// Installs the logger with messages up to `level`.
pub fn init(level: LevelFilter) {
    let logger = Box::leak(Box::new(Logger {
        level,
        journal: stderr_is_journal(),
    }));
    let _ = log::set_logger(logger);
    log::set_max_level(level);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, ms: u64) -> String {
        rfc3339_utc(UNIX_EPOCH + Duration::from_millis(secs * 1000 + ms))
    }

    #[test]
    fn known_dates() {
        // Checked with `date -u -d @SECS`.
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(951_868_799, 999), "2000-02-29T23:59:59.999Z");
        assert_eq!(at(1_709_164_800, 7), "2024-02-29T00:00:00.007Z");
        assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000Z");
        // 2100 is not a leap year: 28 February is followed by 1 March.
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_798_761_599, 345), "2026-12-31T23:59:59.345Z");
        assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000Z");
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn civil_days_round_trip_through_the_calendar() {
        // Every day from 1969 to 2101 follows the one before.
        let mut prev = civil_from_days(-365);
        assert_eq!(prev, (1969, 1, 1));
        for d in -364..47_850 {
            let cur = civil_from_days(d);
            let next_day = (prev.0, prev.1, prev.2 + 1);
            let next_month = (prev.0, prev.1 + 1, 1);
            let next_year = (prev.0 + 1, 1, 1);
            assert!(
                cur == next_day || cur == next_month || cur == next_year,
                "{prev:?} -> {cur:?}"
            );
            let leap = (cur.0 % 4 == 0 && cur.0 % 100 != 0) || cur.0 % 400 == 0;
            if cur.1 == 2 && cur.2 == 29 {
                assert!(leap, "{cur:?}");
            }
            prev = cur;
        }
    }

    #[test]
    fn lines() {
        let t = UNIX_EPOCH + Duration::from_millis(1_796_457_662_345);
        assert_eq!(
            format_line(Some(t), Some("fifo"), Level::Info, "READY"),
            "2026-12-05T08:01:02.345Z ivt-shim[fifo] info: READY"
        );
        assert_eq!(
            format_line(Some(t), None, Level::Warn, "x"),
            "2026-12-05T08:01:02.345Z ivt-shim warn: x"
        );
        assert_eq!(
            format_line(None, Some("fifo"), Level::Error, "DOWN"),
            "<3>ivt-shim[fifo] error: DOWN"
        );
        assert_eq!(
            format_line(None, None, Level::Debug, "d"),
            "<7>ivt-shim debug: d"
        );
    }

    #[test]
    fn journal_stream_must_name_stderr() {
        assert!(is_journal_stream("8:123456", 8, 123_456));
        assert!(is_journal_stream("8:123456\n", 8, 123_456));
        assert!(!is_journal_stream("8:123457", 8, 123_456));
        assert!(!is_journal_stream("9:123456", 8, 123_456));
        assert!(!is_journal_stream("", 8, 123_456));
        assert!(!is_journal_stream("8", 8, 123_456));
        assert!(!is_journal_stream("x:y", 8, 123_456));
    }
}
