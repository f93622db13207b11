//! Login against its peer: keyfob's `login` (a session and two tokens) against two
//! jsonwebtoken `encode`s of a token of the same shape, in interleaved rounds.
//!
//! The store is in steady state, as a server's is once it has been up a while: it holds
//! [`LIVE`] live sessions, and each login takes the place of a session that ended. (criterion's
//! `keyfob_login`, in `benches/engine.rs`, measures the other case: a store growing by
//! millions.) Rounds alternate keyfob and peer, each timing [`BATCH`] calls in the thread's
//! CPU time, so a slow spell on a busy machine hits both sides of a round's ratio alike; the
//! result is the median over the rounds. Results go to `$BENCH_OUT_DIR/login.json` (default
//! `target/bench-results`) for the report.

use std::hint::black_box;
use std::sync::Arc;

use keyfob::{Config, Engine, ManualClock, MemoryStore, SessionStore};

#[path = "support/cpu_time.rs"]
#[allow(dead_code)] // the criterion measurement is not used here
mod cpu_time;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/sample.rs"]
mod sample;
use cpu_time::thread_cpu_ns;
use peer::{Peer, SECRET};
use sample::{median, Rng};

/// Live sessions throughout: the scale bench's middle size.
const LIVE: usize = 100_000;
/// Logins (and encodes) timed in a round; the logins' sessions end after it, untimed.
const BATCH: usize = 16_384;
/// Rounds measured, after [`WARM_UP`] rounds that are not.
const ROUNDS: usize = 31;
const WARM_UP: usize = 3;

/// An engine whose store holds [`LIVE`] live sessions, with room for a batch of logins in
/// places sessions ended in. After each batch the clock passes the batch's idle deadline and
/// a sweep (untimed) ends the batch's sessions, so the next batch takes their places again.
/// The live sessions are logged in by a second engine on the same store whose sessions idle
/// for a century, so they outlive every batch. (A sweep hands the OS back the memory of free
/// places at the end of a shard, so the places batches reuse are made first: logged in before
/// the live sessions, then ended.)
struct SteadyStore {
    engine: Engine,
    clock: ManualClock,
    /// Seconds that end a batch's sessions: past their idle deadline.
    batch_span: i64,
    /// User ids of two digits (the peer's token carries "42", and so keyfob's have its
    /// length), in a fixed random order.
    users: Vec<String>,
    next_user: usize,
}

impl SteadyStore {
    fn new() -> SteadyStore {
        let clock = ManualClock::new(1_700_000_000);
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let on_store = |config: Config| {
            Engine::builder(config)
                .clock(clock.clone())
                .store(store.clone())
                .build()
                .expect("bench config is valid")
        };
        let config = Config::with_secret(SECRET);
        let batch_span = (config.idle_timeout_s + config.leeway_s + 1) as i64;
        let engine = on_store(config);
        let mut lasting = Config::with_secret(SECRET);
        lasting.idle_timeout_s = 100 * 365 * 86_400;
        lasting.refresh_lifetime_s = lasting.idle_timeout_s;
        let lasting = on_store(lasting);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let users = (0..4096)
            .map(|_| (10 + rng.next() % 90).to_string())
            .collect();
        let mut steady = SteadyStore {
            engine,
            clock,
            batch_span,
            users,
            next_user: 0,
        };
        // Twice a batch: logins spread over the store's shards at random.
        for _ in 0..2 * BATCH {
            steady.login();
        }
        for user in 0..LIVE {
            lasting.login(&user.to_string(), None).expect("login");
        }
        steady.end_batch(2 * BATCH);
        assert_eq!(steady.engine.stats().unwrap().sessions, LIVE);
        steady
    }

    #[inline]
    fn login(&mut self) {
        let user = &self.users[self.next_user % self.users.len()];
        self.next_user += 1;
        black_box(self.engine.login(black_box(user), None).unwrap());
    }

    /// End the `n` sessions of the last batch, and only those.
    fn end_batch(&mut self, n: usize) {
        self.clock.advance(self.batch_span);
        assert_eq!(self.engine.sweep().unwrap(), n, "the batch's sessions end");
    }

    /// CPU ns per login over one batch; the batch's sessions end afterwards, untimed.
    fn ns_per_login(&mut self) -> f64 {
        let start = thread_cpu_ns();
        for _ in 0..BATCH {
            self.login();
        }
        let ns = (thread_cpu_ns() - start) as f64 / BATCH as f64;
        self.end_batch(BATCH);
        ns
    }
}

/// CPU ns per `encode` over one batch.
fn ns_per_encode(peer: &Peer) -> f64 {
    let start = thread_cpu_ns();
    for _ in 0..BATCH {
        black_box(peer.encode(black_box(&peer.claims)));
    }
    (thread_cpu_ns() - start) as f64 / BATCH as f64
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips this bench.
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        if !"login".contains(filter.as_str()) {
            return;
        }
    }
    let probe = Engine::new(Config::with_secret(SECRET)).expect("bench config is valid");
    let peer = Peer::of(&probe, &probe.login("42", None).expect("login").access);
    let mut steady = SteadyStore::new();
    let (mut logins, mut encodes, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..WARM_UP + ROUNDS {
        // Alternate which side goes first, so neither always follows the other's sweep.
        let (login, encode) = if round % 2 == 0 {
            let login = steady.ns_per_login();
            (login, ns_per_encode(&peer))
        } else {
            let encode = ns_per_encode(&peer);
            (steady.ns_per_login(), encode)
        };
        if round >= WARM_UP {
            logins.push(login);
            encodes.push(encode);
            ratios.push(2.0 * encode / login);
        }
    }
    let (login, encode, ratio) = (median(logins), median(encodes), median(ratios));
    eprintln!(
        "login: keyfob login {login:.0} ns, jsonwebtoken encode {encode:.0} ns, \
         2 × encode / login {ratio:.2}x ({ROUNDS} rounds, {LIVE} live sessions)"
    );
    let out = std::env::var("BENCH_OUT_DIR").unwrap_or_else(|_| "target/bench-results".into());
    std::fs::create_dir_all(&out).expect("results directory");
    let json = format!(
        "{{\"login_ns\": {login:.1}, \"encode_ns\": {encode:.1}, \"ratio\": {ratio:.4}, \
         \"rounds\": {ROUNDS}, \"live_sessions\": {LIVE}, \"batch\": {BATCH}}}\n"
    );
    std::fs::write(format!("{out}/login.json"), json).expect("write login.json");
}
