//! What an engine counts for its operators: calls per operation, errors per code, the
//! latency of the store's calls, live sessions. Counters are striped across threads (each
//! thread adds to its own cache line), so counting costs two threads validating at once
//! nothing they share; a snapshot sums the stripes.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::error::{ErrorCode, Result};

/// A snapshot of an engine's metrics, from [`Engine::metrics`](crate::Engine::metrics).
/// Counts run from the engine's creation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// Calls per operation (`"login"`, `"validate"`, `"refresh"`, `"verify"`, `"revoke"`,
    /// `"revoke_session"`, `"revoke_user"`, `"sessions"`, `"session"`, `"update_session"`),
    /// failed ones included. Sliding-token calls count as login, validate and refresh.
    pub operations: BTreeMap<String, u64>,
    /// Failed calls per error name ([`ErrorCode::name`]); only names seen so far.
    pub errors: BTreeMap<String, u64>,
    /// Latency of the store's calls, by store operation (`"touch"`, `"rotate"`, `"create"`,
    /// ...). The frequent calls (`touch`, `rotate`, `create`, `new_session_id`) are timed
    /// one in [`LATENCY_SAMPLE`] per thread, the others every time: `count` is how many
    /// were timed.
    pub store_latency: BTreeMap<String, Histogram>,
    /// Sessions alive now.
    pub live_sessions: u64,
    /// The near cache's counts, when the store has one.
    pub near_cache: Option<NearCacheStats>,
}

impl Metrics {
    /// As a JSON object with the field names above; a histogram is
    /// `{"buckets": [[bound, count], ...], "sum": s, "count": n}`: what the C ABI hands out.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let latency: serde_json::Map<String, serde_json::Value> = self
            .store_latency
            .iter()
            .map(|(op, h)| {
                let buckets: Vec<_> = h.buckets.iter().map(|(b, n)| json!([b, n])).collect();
                (
                    op.clone(),
                    json!({"buckets": buckets, "sum": h.sum, "count": h.count}),
                )
            })
            .collect();
        json!({
            "operations": self.operations,
            "errors": self.errors,
            "store_latency": latency,
            "live_sessions": self.live_sessions,
            "near_cache": self.near_cache.map(|c| json!({
                "hits": c.hits,
                "misses": c.misses,
                "invalidations": c.invalidations,
            })),
        })
    }
}

/// A latency histogram in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// `(upper bound in seconds, calls at or under it)`, cumulative, bounds increasing;
    /// the implicit last bucket (+Inf) is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// The sum of the timed calls, in seconds.
    pub sum: f64,
    /// How many calls were timed.
    pub count: u64,
}

/// A near cache's counts (see [`SessionStore::near_cache`](crate::SessionStore::near_cache)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NearCacheStats {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went to the store.
    pub misses: u64,
    /// Entries dropped because the store said they changed.
    pub invalidations: u64,
}

/// One in this many frequent store calls is timed, per thread.
pub const LATENCY_SAMPLE: u32 = 16;

/// The engine's operations, as counted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
    Login,
    Validate,
    Refresh,
    Verify,
    Revoke,
    RevokeSession,
    RevokeUser,
    Sessions,
    Session,
    UpdateSession,
}

impl Op {
    const ALL: [Op; 10] = [
        Op::Login,
        Op::Validate,
        Op::Refresh,
        Op::Verify,
        Op::Revoke,
        Op::RevokeSession,
        Op::RevokeUser,
        Op::Sessions,
        Op::Session,
        Op::UpdateSession,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Validate => "validate",
            Op::Refresh => "refresh",
            Op::Verify => "verify",
            Op::Revoke => "revoke",
            Op::RevokeSession => "revoke_session",
            Op::RevokeUser => "revoke_user",
            Op::Sessions => "sessions",
            Op::Session => "session",
            Op::UpdateSession => "update_session",
        }
    }
}

/// The store's operations, as timed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StoreOp {
    NewSessionId,
    Create,
    Get,
    Touch,
    Rotate,
    RevokeSession,
    RevokeUser,
    UserNotBefore,
    DenyJti,
    IsDenied,
    RememberProof,
    Sweep,
    Details,
    SessionClaims,
    UserSessions,
    UpdateClaims,
}

impl StoreOp {
    const COUNT: usize = 16;
    const ALL: [StoreOp; StoreOp::COUNT] = [
        StoreOp::NewSessionId,
        StoreOp::Create,
        StoreOp::Get,
        StoreOp::Touch,
        StoreOp::Rotate,
        StoreOp::RevokeSession,
        StoreOp::RevokeUser,
        StoreOp::UserNotBefore,
        StoreOp::DenyJti,
        StoreOp::IsDenied,
        StoreOp::RememberProof,
        StoreOp::Sweep,
        StoreOp::Details,
        StoreOp::SessionClaims,
        StoreOp::UserSessions,
        StoreOp::UpdateClaims,
    ];

    fn name(self) -> &'static str {
        match self {
            StoreOp::NewSessionId => "new_session_id",
            StoreOp::Create => "create",
            StoreOp::Get => "get",
            StoreOp::Touch => "touch",
            StoreOp::Rotate => "rotate",
            StoreOp::RevokeSession => "revoke_session",
            StoreOp::RevokeUser => "revoke_user",
            StoreOp::UserNotBefore => "user_not_before",
            StoreOp::DenyJti => "deny_jti",
            StoreOp::IsDenied => "is_denied",
            StoreOp::RememberProof => "remember_proof",
            StoreOp::Sweep => "sweep",
            StoreOp::Details => "details",
            StoreOp::SessionClaims => "session_claims",
            StoreOp::UserSessions => "user_sessions",
            StoreOp::UpdateClaims => "update_claims",
        }
    }

    /// Called on most requests: timed one in [`LATENCY_SAMPLE`].
    pub(crate) fn is_frequent(self) -> bool {
        matches!(
            self,
            StoreOp::NewSessionId | StoreOp::Create | StoreOp::Touch | StoreOp::Rotate
        )
    }
}

/// Upper bounds of the latency buckets, in nanoseconds (1 µs to 1 s).
const BOUNDS_NS: [u64; 14] = [
    1_000,
    5_000,
    10_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    50_000_000,
    250_000_000,
    1_000_000_000,
];

const STRIPES: usize = 8;
const ERROR_SLOTS: usize = 32;
const OPS: usize = Op::ALL.len();

/// One thread's counters, on cache lines of their own.
#[repr(align(128))]
struct Stripe {
    ops: [AtomicU64; OPS],
    errors: [AtomicU64; ERROR_SLOTS],
}

impl Default for Stripe {
    fn default() -> Stripe {
        Stripe {
            ops: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// Per-bucket counts (not cumulative) plus the sum and count, in nanoseconds.
struct Timings {
    buckets: [AtomicU64; BOUNDS_NS.len()],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

impl Timings {
    fn record(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        if let Some(i) = BOUNDS_NS.iter().position(|&b| ns <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.sum_ns.fetch_add(ns, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn snapshot(&self) -> Histogram {
        let mut running = 0;
        let buckets = BOUNDS_NS
            .iter()
            .zip(&self.buckets)
            .map(|(&bound, n)| {
                running += n.load(Relaxed);
                (bound as f64 / 1e9, running)
            })
            .collect();
        let count = self.count.load(Relaxed);
        Histogram {
            buckets,
            sum: self.sum_ns.load(Relaxed) as f64 / 1e9,
            count: count.max(running),
        }
    }
}

/// The counters and histograms of one engine.
pub(crate) struct Recorder {
    stripes: Box<[Stripe]>,
    latency: Box<[Timings]>,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder {
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
            latency: (0..StoreOp::COUNT).map(|_| Timings::default()).collect(),
        }
    }
}

thread_local! {
    /// This thread's stripe, and its count of frequent store calls (for sampling).
    static THREAD: Cell<(usize, u32)> = const { Cell::new((usize::MAX, 0)) };
}

fn stripe_index() -> usize {
    THREAD
        .try_with(|t| {
            let (mut i, n) = t.get();
            if i == usize::MAX {
                use std::sync::atomic::AtomicUsize;
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                i = NEXT.fetch_add(1, Relaxed) % STRIPES;
                t.set((i, n));
            }
            i
        })
        .unwrap_or(0)
}

/// Whether this frequent call is the one in [`LATENCY_SAMPLE`] to time.
pub(crate) fn sample_this_call() -> bool {
    THREAD
        .try_with(|t| {
            let (i, n) = t.get();
            t.set((i, n.wrapping_add(1)));
            n % LATENCY_SAMPLE == 0
        })
        .unwrap_or(false)
}

impl Recorder {
    /// Count a call of `op` and, if it failed, its error.
    #[inline]
    pub(crate) fn count<T>(&self, op: Op, result: &Result<T>) {
        let stripe = &self.stripes[stripe_index()];
        stripe.ops[op as usize].fetch_add(1, Relaxed);
        if let Err(e) = result {
            let code = e.code() as usize;
            if code < ERROR_SLOTS {
                stripe.errors[code].fetch_add(1, Relaxed);
            }
        }
    }

    pub(crate) fn time(&self, op: StoreOp, elapsed: Duration) {
        self.latency[op as usize].record(elapsed);
    }

    pub(crate) fn snapshot(
        &self,
        live_sessions: u64,
        near_cache: Option<NearCacheStats>,
    ) -> Metrics {
        let sum = |f: &dyn Fn(&Stripe) -> u64| self.stripes.iter().map(f).sum::<u64>();
        let operations = Op::ALL
            .iter()
            .map(|&op| {
                let n = sum(&|s| s.ops[op as usize].load(Relaxed));
                (op.name().to_owned(), n)
            })
            .collect();
        let errors = ErrorCode::ALL
            .iter()
            .filter_map(|&code| {
                let n = sum(&|s| s.errors[code as usize].load(Relaxed));
                (n > 0).then(|| (code.name().to_owned(), n))
            })
            .collect();
        let store_latency = StoreOp::ALL
            .iter()
            .filter_map(|&op| {
                let h = self.latency[op as usize].snapshot();
                (h.count > 0).then(|| (op.name().to_owned(), h))
            })
            .collect();
        Metrics {
            operations,
            errors,
            store_latency,
            live_sessions,
            near_cache,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn counts_sum_over_threads() {
        let r = std::sync::Arc::new(Recorder::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        r.count(Op::Validate, &Ok(()));
                        r.count::<()>(Op::Validate, &Err(Error::Expired));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let m = r.snapshot(0, None);
        assert_eq!(m.operations["validate"], 800);
        assert_eq!(m.operations["login"], 0);
        assert_eq!(m.errors["expired"], 400);
        assert_eq!(m.errors.len(), 1);
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let r = Recorder::default();
        r.time(StoreOp::Get, Duration::from_micros(3));
        r.time(StoreOp::Get, Duration::from_millis(2));
        r.time(StoreOp::Get, Duration::from_secs(5));
        let h = &r.snapshot(0, None).store_latency["get"];
        assert_eq!(h.count, 3);
        assert_eq!(h.buckets[0], (1e-6, 0));
        assert_eq!(h.buckets[1], (5e-6, 1));
        assert_eq!(h.buckets.last().unwrap().1, 2);
        assert!((h.sum - 5.002003).abs() < 1e-9);
    }
}
