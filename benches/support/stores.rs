//! The memory store against the Redis store: validate and refresh latency and throughput
//! (`scale stores <redis-url>`, needs `--features redis`; `scripts/bench.sh` starts a
//! throwaway redis-server on a loopback port for it). Results go to
//! `$BENCH_OUT_DIR/stores.json`.
//!
//! Wall clock here, unlike the rest of the bench: a Redis call spends its time waiting for
//! the server, which thread CPU time would not count. Latency is the median of single calls
//! (each timed on its own, so it includes two clock reads, about 40 ns); throughput is calls
//! per second of 1 and 2 threads. The two stores and both thread counts are measured in
//! interleaved rounds, so load on the machine (redis-server included) hits them alike.
//! Redis is measured twice: `redis` goes to Redis on every call, `redis_near` answers
//! validates from its near cache; `support/near_cache.rs` adds commands per validate and
//! revocation visibility for both.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use keyfob::{Config, Engine};

/// Live sessions per store; validate and refresh spread over them.
const SESSIONS: usize = 1_000;
const LATENCY_ROUNDS: usize = 5;
/// Calls per round, operation and store (each timed alone).
const LATENCY_CALLS: usize = 600;
const THROUGHPUT_ROUNDS: usize = 3;
const THROUGHPUT_RUN: Duration = Duration::from_millis(300);
/// Bound on each Redis call: generous, so a busy machine is measured and not failed.
const STORE_TIMEOUT_MS: u64 = 5_000;

struct Subject {
    name: &'static str,
    engine: Engine,
    /// One access token per session, shuffled.
    access: Vec<String>,
    /// The current refresh token of each session (rotation replaces it).
    refresh: Vec<String>,
}

fn subject(
    name: &'static str,
    store: &str,
    near_cache: bool,
    secret: &str,
) -> Result<Subject, String> {
    let mut config = Config::with_secret(secret);
    config.store = store.to_owned();
    config.near_cache = near_cache;
    // A prefix of its own, so a run never meets keys of another.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    config.store_prefix = format!("keyfob-bench-{}-{nanos}:", std::process::id());
    config.store_timeout_ms = STORE_TIMEOUT_MS;
    let engine = Engine::new(config).map_err(|e| format!("{name} engine: {e}"))?;
    let (mut access, mut refresh) = (Vec::new(), Vec::new());
    // Validates and refreshes on separate sessions: a rotation changes its session, which
    // the near cache must then read again, and a session is refreshed far less often than
    // it is validated.
    for i in 0..SESSIONS {
        let login = |who: String| {
            engine
                .login(&who, None)
                .map_err(|e| format!("{name} login: {e}"))
        };
        access.push(login(format!("user-{i}"))?.access);
        let pair = login(format!("refresher-{i}"))?;
        refresh.push(pair.refresh.ok_or("login gave no refresh token")?);
    }
    super::Rng(0x2545_f491_4f6c_dd1d).shuffle(&mut access);
    Ok(Subject {
        name,
        engine,
        access,
        refresh,
    })
}

/// Until a subject's near cache answers validates (its link comes up in the background),
/// for at most 10 s: a cache still starting would be measured as round trips.
fn wait_for_near_cache(s: &Subject) {
    let hits = || s.engine.metrics().near_cache.map(|c| c.hits);
    let Some(mut before) = hits() else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for token in s.access.iter().take(2) {
            let _ = s.engine.validate(token);
        }
        let now = hits().unwrap_or(0);
        if now > before {
            return;
        }
        before = now;
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "stores: {}: the near cache did not answer within 10 s",
        s.name
    );
}

fn refresh_at(engine: &Engine, tokens: &mut [String], i: usize) {
    let pair = engine.refresh(&tokens[i]).expect("refresh");
    tokens[i] = pair.refresh.expect("rotation gives a new refresh token");
}

#[derive(Clone, Copy)]
enum Op {
    Validate,
    Refresh,
}
const OPS: [(Op, &str); 2] = [(Op::Validate, "validate"), (Op::Refresh, "refresh")];

/// `threads` threads run `op` for `THROUGHPUT_RUN`, each on its own share of the sessions
/// (a refresh chain is never shared); calls per second of wall clock.
fn throughput(s: &mut Subject, op: Op, threads: usize) -> f64 {
    let stop = AtomicBool::new(false);
    let share = SESSIONS / threads;
    let engine = &s.engine;
    let access = &s.access;
    let start = Instant::now();
    let calls: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = s
            .refresh
            .chunks_mut(share)
            .take(threads)
            .enumerate()
            .map(|(t, refresh)| {
                let stop = &stop;
                scope.spawn(move || {
                    let mut calls = 0u64;
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..16 {
                            match op {
                                Op::Validate => {
                                    black_box(
                                        engine.validate(&access[t * share + i]).expect("live"),
                                    );
                                }
                                Op::Refresh => refresh_at(engine, refresh, i),
                            }
                            i = (i + 1) % share;
                        }
                        calls += 16;
                    }
                    calls
                })
            })
            .collect();
        std::thread::sleep(THROUGHPUT_RUN);
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    calls as f64 / start.elapsed().as_secs_f64()
}

/// Wall ns of each of `LATENCY_CALLS` single calls, appended to `samples`.
fn latencies(s: &mut Subject, op: Op, cursor: &mut usize, samples: &mut Vec<f64>) {
    for _ in 0..LATENCY_CALLS {
        let i = *cursor % SESSIONS;
        *cursor += 1;
        let t0 = Instant::now();
        match op {
            Op::Validate => {
                black_box(s.engine.validate(&s.access[i]).expect("live"));
            }
            Op::Refresh => refresh_at(&s.engine, &mut s.refresh, i),
        }
        samples.push(t0.elapsed().as_nanos() as f64);
    }
}

/// Wall ns of `LATENCY_CALLS` bare Redis round trips (PING on one open connection): the
/// floor under any call that needs Redis, appended to `samples`.
#[cfg(feature = "redis")]
fn pings(conn: &mut redis::Connection, samples: &mut Vec<f64>) {
    for _ in 0..LATENCY_CALLS {
        let t0 = Instant::now();
        let pong: String = redis::cmd("PING").query(conn).expect("PING");
        samples.push(t0.elapsed().as_nanos() as f64);
        black_box(pong);
    }
}

#[cfg(feature = "redis")]
fn ping_connection(url: &str) -> Option<redis::Connection> {
    redis::Client::open(url).ok()?.get_connection().ok()
}

#[cfg(not(feature = "redis"))]
struct NoConnection;

#[cfg(not(feature = "redis"))]
fn ping_connection(_: &str) -> Option<NoConnection> {
    None
}

#[cfg(not(feature = "redis"))]
fn pings(_: &mut NoConnection, _: &mut Vec<f64>) {}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

pub fn run(redis_url: &str, secret: &str, out_dir: &str) {
    let mut subjects = Vec::new();
    for (name, store, near) in [
        ("memory", "memory", false),
        ("redis", redis_url, false),
        ("redis_near", redis_url, true),
    ] {
        match subject(name, store, near, secret) {
            Ok(s) => subjects.push(s),
            Err(e) => {
                eprintln!("stores: {e}");
                std::fs::write(format!("{out_dir}/stores.unavailable"), e).ok();
                return;
            }
        }
    }
    // The near cache's link comes up in the background; then warm up: connections to
    // Redis, scripts loaded, caches.
    std::thread::sleep(Duration::from_millis(500));
    for s in &subjects {
        wait_for_near_cache(s);
    }
    let mut cursors = vec![0usize; subjects.len()];
    for (s, cursor) in subjects.iter_mut().zip(&mut cursors) {
        for (op, _) in OPS {
            latencies(s, op, cursor, &mut Vec::new());
        }
    }

    let n = subjects.len();
    let mut lat: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); OPS.len()]; n];
    let mut ping_conn = ping_connection(redis_url);
    let mut ping_samples = Vec::new();
    for _ in 0..LATENCY_ROUNDS {
        for (k, s) in subjects.iter_mut().enumerate() {
            for (o, (op, _)) in OPS.iter().enumerate() {
                latencies(s, *op, &mut cursors[k], &mut lat[k][o]);
            }
        }
        if let Some(conn) = ping_conn.as_mut() {
            pings(conn, &mut ping_samples);
        }
    }
    // [subject][op][threads - 1]
    let mut tput: Vec<Vec<[Vec<f64>; 2]>> = vec![vec![[Vec::new(), Vec::new()]; OPS.len()]; n];
    for _ in 0..THROUGHPUT_ROUNDS {
        for (k, s) in subjects.iter_mut().enumerate() {
            for (o, (op, _)) in OPS.iter().enumerate() {
                for threads in [1, 2] {
                    tput[k][o][threads - 1].push(throughput(s, *op, threads));
                }
            }
        }
    }

    let mut parts = Vec::new();
    for (k, s) in subjects.iter().enumerate() {
        let mut ops = Vec::new();
        for (o, (_, op_name)) in OPS.iter().enumerate() {
            let samples = &mut lat[k][o];
            let median = quantile(samples, 0.5);
            let p99 = quantile(samples, 0.99);
            let [one, two] = &mut tput[k][o];
            let (one, two) = (quantile(one, 0.5), quantile(two, 0.5));
            eprintln!(
                "stores: {} {op_name}: median {median:.0} ns, p99 {p99:.0} ns, \
                 {one:.0}/s with 1 thread, {two:.0}/s with 2",
                s.name
            );
            ops.push(format!(
                "\"{op_name}\":{{\"median_ns\":{median:.1},\"p99_ns\":{p99:.1},\
                 \"one_thread_per_s\":{one:.0},\"two_threads_per_s\":{two:.0}}}"
            ));
        }
        parts.push(format!("\"{}\":{{{}}}", s.name, ops.join(",")));
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loadavg = loadavg.split_whitespace().next().unwrap_or("?").to_string();
    if !ping_samples.is_empty() {
        let median = quantile(&mut ping_samples, 0.5);
        eprintln!("stores: redis PING round trip: median {median:.0} ns");
        parts.push(format!("\"redis_ping\":{{\"median_ns\":{median:.1}}}"));
    }
    drop(subjects);
    #[cfg(feature = "redis")]
    parts.push(super::near_cache::run(redis_url, secret));
    let json = format!(
        "{{\"sessions\":{SESSIONS},\"latency_calls\":{},\"throughput_ms\":{},\
         \"loadavg\":\"{loadavg}\",{}}}\n",
        LATENCY_ROUNDS * LATENCY_CALLS,
        THROUGHPUT_RUN.as_millis(),
        parts.join(",")
    );
    eprint!("stores: {json}");
    std::fs::write(format!("{out_dir}/stores.json"), json).expect("write stores.json");
}
