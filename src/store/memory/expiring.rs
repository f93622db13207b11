//! The jti denylist and the user epochs: maps from string keys to an expiry, swept the same
//! amortized way as the shards.

use std::collections::HashMap;

use super::SWEEP_MIN_WRITES;

/// Keys with a value and the time they stop mattering.
#[derive(Default)]
pub(super) struct Expiring {
    pub(super) map: HashMap<Box<str>, (i64, i64)>,
    writes_since_sweep: usize,
}

impl Expiring {
    /// Drop what expired at `now`; returns how many went.
    pub(super) fn sweep(&mut self, now: i64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, (_, until)| *until > now);
        self.writes_since_sweep = 0;
        before - self.map.len()
    }

    /// Returns whether the key was new.
    pub(super) fn insert(&mut self, key: &str, value: i64, until: i64, now: i64) -> bool {
        let fresh = self.map.insert(key.into(), (value, until)).is_none();
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.map.len() / 4) {
            self.sweep(now);
        }
        fresh
    }
}
