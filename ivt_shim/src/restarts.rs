// SPDX-License-Identifier: GPL-2.0

//! The restart budget: `max_restarts` restarts within `restart_window_s`.
//!
//! A driver VM that crashes now and then over months must not be given up
//! for good on its sixth crash; one that crashes in a loop must.  The
//! budget therefore counts only the restarts of the last window: when a
//! generation dies and `max_restarts` restarts already happened less than
//! `restart_window_s` seconds ago, the shim gives up, otherwise it restarts
//! and records the time.  A window of 0 counts every restart of the
//! shim's life (the behaviour before the window existed).
//!
//! Times are durations since an arbitrary fixed origin (the shim uses the
//! time it started, from a monotonic clock), so that the logic can be
//! tested without sleeping.

use std::collections::VecDeque;
use std::time::Duration;

/// What to do about a death.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart; the restart is recorded.  `in_window` counts it too.
    Restart {
        /// This restart's number over the shim's life, from 1.
        number: u32,
        /// Restarts within the window, this one included.
        in_window: u32,
    },
    /// Give up: `in_window` restarts (= `max_restarts`) happened within
    /// the window.
    GiveUp {
        /// Restarts over the shim's life.
        total: u32,
        /// Restarts within the window.
        in_window: u32,
    },
}

/// Restarts done and their times.
#[derive(Debug)]
pub struct RestartBudget {
    max: u32,
    /// `None`: the whole life.
    window: Option<Duration>,
    /// Times of the restarts that are still within the window (all of them
    /// without a window), oldest first.
    recent: VecDeque<Duration>,
    total: u32,
}

impl RestartBudget {
    /// A budget of `max_restarts` restarts per `window_s` seconds (0: per
    /// life).
    pub fn new(max_restarts: u32, window_s: u64) -> Self {
        RestartBudget {
            max: max_restarts,
            window: (window_s != 0).then(|| Duration::from_secs(window_s)),
            recent: VecDeque::new(),
            total: 0,
        }
    }

    /// Forgets the restarts that are `window` or more old at `now`.
    fn expire(&mut self, now: Duration) {
        let Some(w) = self.window else {
            return;
        };
        while let Some(&t) = self.recent.front() {
            if now.saturating_sub(t) >= w {
                self.recent.pop_front();
            } else {
                break;
            }
        }
    }

    /// Restarts counted at `now`.
    pub fn in_window(&mut self, now: Duration) -> u32 {
        self.expire(now);
        u32::try_from(self.recent.len()).unwrap_or(u32::MAX)
    }

    /// A generation died at `now`: restart (recorded) or give up.
    pub fn on_death(&mut self, now: Duration) -> Decision {
        let n = self.in_window(now);
        if n >= self.max {
            return Decision::GiveUp {
                total: self.total,
                in_window: n,
            };
        }
        self.total = self.total.saturating_add(1);
        // At most `max` entries: the death after that gives up.
        self.recent.push_back(now);
        Decision::Restart {
            number: self.total,
            in_window: n + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Duration {
        Duration::from_secs(x)
    }

    /// Deaths at 0, step, 2 step, ... until the budget gives up (or `n`
    /// deaths): the decisions.
    fn deaths(b: &mut RestartBudget, step: u64, n: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        for i in 0..n {
            let d = b.on_death(s(i * step));
            out.push(d);
            if matches!(d, Decision::GiveUp { .. }) {
                break;
            }
        }
        out
    }

    #[test]
    fn without_window_the_whole_life_counts() {
        let mut b = RestartBudget::new(3, 0);
        let d = deaths(&mut b, 1_000_000, 10);
        assert_eq!(
            d,
            vec![
                Decision::Restart {
                    number: 1,
                    in_window: 1
                },
                Decision::Restart {
                    number: 2,
                    in_window: 2
                },
                Decision::Restart {
                    number: 3,
                    in_window: 3
                },
                Decision::GiveUp {
                    total: 3,
                    in_window: 3
                },
            ]
        );
    }

    #[test]
    fn crash_loop_inside_the_window_gives_up() {
        // Deaths at t = 0, 10, 20, 30: three restarts within 60 s, then
        // the fourth death gives up.
        let mut b = RestartBudget::new(3, 60);
        let d = deaths(&mut b, 10, 10);
        assert_eq!(d.len(), 4);
        assert_eq!(
            d[3],
            Decision::GiveUp {
                total: 3,
                in_window: 3
            }
        );
    }

    #[test]
    fn deaths_spread_wider_than_the_window_never_give_up() {
        // Deaths every 10 s, window 25 s, 3 restarts: at most 3 restarts
        // (t - 20, t - 10, t) are within the window when one is decided,
        // and the oldest is gone by the next death.
        let mut b = RestartBudget::new(3, 25);
        let d = deaths(&mut b, 10, 1000);
        assert_eq!(d.len(), 1000);
        assert_eq!(
            d[999],
            Decision::Restart {
                number: 1000,
                in_window: 3
            }
        );
        // One month apart with a one-hour window: each is the only one.
        let mut b = RestartBudget::new(1, 3600);
        for (i, d) in deaths(&mut b, 30 * 86_400, 20).into_iter().enumerate() {
            assert_eq!(
                d,
                Decision::Restart {
                    number: u32::try_from(i + 1).unwrap(),
                    in_window: 1
                }
            );
        }
    }

    #[test]
    fn window_edge_is_exclusive() {
        // A restart exactly `window` ago no longer counts.
        let mut b = RestartBudget::new(2, 30);
        assert!(matches!(b.on_death(s(0)), Decision::Restart { .. }));
        assert!(matches!(b.on_death(s(10)), Decision::Restart { .. }));
        assert_eq!(
            b.on_death(s(29)),
            Decision::GiveUp {
                total: 2,
                in_window: 2
            }
        );
        assert_eq!(
            b.on_death(s(30)),
            Decision::Restart {
                number: 3,
                in_window: 2
            }
        );
        assert_eq!(b.in_window(s(40)), 1);
        assert_eq!(b.in_window(s(70)), 0);
    }

    #[test]
    fn zero_restarts_gives_up_at_the_first_death() {
        for w in [0, 3600] {
            let mut b = RestartBudget::new(0, w);
            assert_eq!(
                b.on_death(s(5)),
                Decision::GiveUp {
                    total: 0,
                    in_window: 0
                }
            );
        }
    }
}
