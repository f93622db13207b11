//! The Redis store with and without its near cache: Redis commands per validate in steady
//! state, and how long a revocation takes to be refused by another process (another store
//! handle: its own connections and, with the cache, its own invalidation link).
//! Called by `support/stores.rs`; the figures join `stores.json`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyfob::store::{RedisStore, SessionStore};
use keyfob::{Config, Engine, Error};

/// Sessions validated in random order for the command count, each about `VALIDATES /
/// SESSIONS` times.
const SESSIONS: usize = 1_000;
const VALIDATES: usize = 200_000;
/// Revocations timed per setting.
const TRIALS: usize = 1_000;
const STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// One process's view of Redis: a store handle and an engine on it.
struct Process {
    engine: Engine,
    store: Arc<RedisStore>,
}

fn process(url: &str, prefix: &str, near: bool, secret: &str) -> Process {
    let mut store = RedisStore::open(url, prefix, STORE_TIMEOUT).expect("Redis URL");
    if near {
        store = store.near_cache(100_000).expect("near cache");
    }
    let store = Arc::new(store);
    let engine = Engine::builder(Config::with_secret(secret))
        .store(store.clone() as Arc<dyn SessionStore>)
        .build()
        .expect("engine");
    let p = Process { engine, store };
    if near {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !p.store.near_cache_serving() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    p
}

fn prefix(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("keyfob-bench-{what}-{}-{nanos}:", std::process::id())
}

/// Commands Redis has run, all clients together: every command (those a script runs
/// included), and the scripts alone (one per round trip of a validate).
fn commands(admin: &mut redis::Connection) -> (u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(admin)
        .expect("INFO");
    let calls =
        |l: &str| -> Option<u64> { l.split("calls=").nth(1)?.split(',').next()?.parse().ok() };
    let all = info
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(calls)
        .sum();
    let scripts = info
        .lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(calls)
        .sum();
    (all, scripts)
}

/// Redis commands per validate: SESSIONS sessions, VALIDATES validates in random order,
/// after one warm-up pass; everything Redis ran meanwhile counts (heartbeats included).
fn commands_per_validate(url: &str, near: bool, secret: &str, rng: &mut super::Rng) -> (f64, f64) {
    let p = process(url, &prefix("commands"), near, secret);
    let tokens: Vec<String> = (0..SESSIONS)
        .map(|i| {
            p.engine
                .login(&format!("u{i}"), None)
                .expect("login")
                .access
        })
        .collect();
    for t in &tokens {
        p.engine.validate(t).expect("live");
    }
    let order: Vec<usize> = (0..VALIDATES)
        .map(|_| (rng.next() % SESSIONS as u64) as usize)
        .collect();
    let mut admin = redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("admin connection");
    let before = commands(&mut admin);
    for &i in &order {
        black_box(p.engine.validate(&tokens[i]).expect("live"));
    }
    let after = commands(&mut admin);
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / VALIDATES as f64;
    (per(after.0, before.0), per(after.1, before.1))
}

/// Times from the start of a revocation in one process until another process refuses the
/// session, which it had validated (and, with the cache, cached) just before. With `load`,
/// a thread in each process validates other sessions all along.
fn visibility(url: &str, near: bool, load: bool, secret: &str) -> Vec<f64> {
    let ns = prefix("visibility");
    let a = process(url, &ns, near, secret);
    let b = process(url, &ns, near, secret);
    let stop = AtomicBool::new(false);
    let busy: Vec<String> = (0..64)
        .map(|i| {
            a.engine
                .login(&format!("busy{i}"), None)
                .expect("login")
                .access
        })
        .collect();
    let mut times = Vec::with_capacity(TRIALS);
    std::thread::scope(|scope| {
        if load {
            for p in [&a, &b] {
                let (stop, busy) = (&stop, &busy);
                scope.spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        black_box(p.engine.validate(&busy[i % busy.len()]).ok());
                        i += 1;
                        // A worker waits on its sockets between requests.
                        if i % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                });
            }
        }
        for _ in 0..TRIALS {
            let pair = a.engine.login("target", None).expect("login");
            // Cached in B (a miss, then a hit), as a warm session is.
            for _ in 0..2 {
                b.engine.validate(&pair.access).expect("live");
            }
            let t0 = Instant::now();
            a.engine.revoke(&pair.access).expect("revoke");
            loop {
                match b.engine.validate(&pair.access) {
                    Err(Error::Revoked) => break,
                    Ok(_) => std::thread::yield_now(),
                    Err(e) => panic!("visibility: {e}"),
                }
                if t0.elapsed() > Duration::from_secs(30) {
                    panic!("visibility: never refused");
                }
            }
            times.push(t0.elapsed().as_nanos() as f64);
        }
        stop.store(true, Ordering::Relaxed);
    });
    times
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// The JSON members for `stores.json`: `commands_per_validate` and `visibility`, each with
/// the near cache on (`near`) and off (`direct`).
pub fn run(url: &str, secret: &str) -> String {
    let mut rng = super::Rng(0x9e37_79b9_7f4a_7c15);
    let mut cpv = Vec::new();
    for (name, near) in [("near", true), ("direct", false)] {
        let (all, scripts) = commands_per_validate(url, near, secret, &mut rng);
        eprintln!("stores: commands per validate, {name}: {all:.5} ({scripts:.5} round trips)");
        cpv.push(format!(
            "\"{name}\":{{\"commands\":{all:.6},\"round_trips\":{scripts:.6}}}"
        ));
    }
    let mut vis = Vec::new();
    for (name, near) in [("near", true), ("direct", false)] {
        let mut runs = Vec::new();
        for (load_name, load) in [("idle", false), ("loaded", true)] {
            let mut t = visibility(url, near, load, secret);
            let (p50, p99, max) = (
                quantile(&mut t, 0.5),
                quantile(&mut t, 0.99),
                quantile(&mut t, 1.0),
            );
            eprintln!(
                "stores: revocation visibility, {name}, {load_name}: median {:.3} ms, \
                 p99 {:.3} ms, max {:.3} ms over {} trials",
                p50 / 1e6,
                p99 / 1e6,
                max / 1e6,
                t.len()
            );
            runs.push(format!(
                "\"{load_name}\":{{\"median_ns\":{p50:.0},\"p99_ns\":{p99:.0},\
                 \"max_ns\":{max:.0},\"trials\":{}}}",
                t.len()
            ));
        }
        vis.push(format!("\"{name}\":{{{}}}", runs.join(",")));
    }
    format!(
        "\"commands_per_validate\":{{{}}},\"visibility\":{{{}}}",
        cpv.join(","),
        vis.join(",")
    )
}
