//! Scale: validate latency with 1e3, 1e5 and 1e6 live sessions, throughput of 2 threads
//! against 1, and resident memory per live session at 1e6 sessions.
//! `scale stores <redis-url>`: the memory store against Redis instead (`support/stores.rs`).
//!
//! Not criterion: the three store sizes are measured in interleaved rounds so a busy machine
//! slows them alike, latency is the thread's CPU time (see `support/cpu_time.rs`), and memory
//! is read from /proc in a fresh child process. Results go to
//! `$BENCH_OUT_DIR/scale.json` (default `target/bench-results`) for the report.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use keyfob::{Config, Engine};

#[path = "support/cpu_time.rs"]
#[allow(dead_code)] // the criterion measurement is not used here
mod cpu_time;
use cpu_time::thread_cpu_ns;

#[path = "support/sample.rs"]
mod sample;
use sample::{median, Rng};

#[path = "support/stores.rs"]
mod stores;

#[cfg(feature = "redis")]
#[path = "support/near_cache.rs"]
mod near_cache;

const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
/// Tokens validated per batch: the same request stream footprint for every store size,
/// so only the store differs (a 1e3 store sees each session ~65 times per batch).
const POOL: usize = 65_536;
const LATENCY_ROUNDS: usize = 15;
const THREAD_ROUNDS: usize = 6;
const THREAD_RUN: Duration = Duration::from_millis(400);
const MEMORY_SESSIONS: usize = 1_000_000;

fn engine() -> Engine {
    Engine::new(Config::with_secret(SECRET)).expect("bench config is valid")
}

/// Tokens laid end to end in one buffer, in the order they are validated: a server validates
/// a token it has just read into its request buffer, so the tokens' own bytes should stream
/// through the caches the same way at every store size. (Separate `String`s would land
/// wherever the allocator has holes, and a store of a million sessions leaves holes all over
/// a big heap: each token's first read would then miss the cache and the TLB at 1e6 and not
/// at 1e3, which is the bench's layout, not the store's cost.)
struct Pool {
    bytes: String,
    ends: Vec<usize>,
}

impl Pool {
    fn new(tokens: &[String]) -> Pool {
        let mut bytes = String::with_capacity(tokens.iter().map(String::len).sum());
        let ends = tokens
            .iter()
            .map(|t| {
                bytes.push_str(t);
                bytes.len()
            })
            .collect();
        Pool { bytes, ends }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// An engine with `n` live sessions and a shuffled pool of `POOL` distinct access tokens
/// spread evenly over them. Distinct at every size: a small store gets several access tokens
/// per session (by refreshing), so the tokens' own bytes take the same room in the caches at
/// every size and only the store differs.
fn populated(n: usize, rng: &mut Rng) -> (Engine, Pool) {
    let engine = engine();
    let mut pool = Vec::with_capacity(POOL);
    let mut refresh = Vec::new();
    for i in 0..n {
        let pair = engine.login(&format!("user-{i}"), None).expect("login");
        // Keep token i when it starts a new 1/POOL slice of the population.
        if n <= POOL || (i * POOL) / n != ((i + 1) * POOL) / n {
            pool.push(pair.access);
            refresh.push(pair.refresh.expect("refresh token"));
        }
    }
    'more: while pool.len() < POOL {
        for r in refresh.iter_mut() {
            if pool.len() == POOL {
                break 'more;
            }
            let next = engine.refresh(r.as_str()).expect("refresh");
            *r = next.refresh.expect("rotated refresh token");
            pool.push(next.access);
        }
    }
    drop(refresh);
    rng.shuffle(&mut pool);
    (engine, Pool::new(&pool))
}

/// CPU ns per validate over one pass of the pool.
fn ns_per_validate(engine: &Engine, pool: &Pool) -> f64 {
    let start = thread_cpu_ns();
    for i in 0..pool.len() {
        black_box(
            engine
                .validate(black_box(pool.get(i)))
                .expect("live session"),
        );
    }
    (thread_cpu_ns() - start) as f64 / pool.len() as f64
}

struct RunResult {
    ops: u64,
    wall_s: f64,
    cpu_ns: u64,
}

/// `threads` threads validate from the pool (each from its own offset) for `THREAD_RUN`.
fn run_threads(engine: &Engine, pool: &Pool, threads: usize) -> RunResult {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let per_thread: Vec<(u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let stop = &stop;
                s.spawn(move || {
                    let cpu0 = thread_cpu_ns();
                    let mut ops = 0u64;
                    let mut i = t * pool.len() / threads;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..256 {
                            black_box(engine.validate(pool.get(i)).expect("live session"));
                            i = (i + 1) % pool.len();
                        }
                        ops += 256;
                    }
                    (ops, thread_cpu_ns() - cpu0)
                })
            })
            .collect();
        std::thread::sleep(THREAD_RUN);
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall_s = start.elapsed().as_secs_f64();
    RunResult {
        ops: per_thread.iter().map(|r| r.0).sum(),
        wall_s,
        cpu_ns: per_thread.iter().map(|r| r.1).sum(),
    }
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Child mode: RSS growth for `MEMORY_SESSIONS` logins (tokens dropped as they come).
fn memory() {
    let engine = engine();
    let before = rss_bytes();
    for i in 0..MEMORY_SESSIONS {
        black_box(engine.login(&format!("user-{i}"), None).expect("login"));
    }
    let after = rss_bytes();
    let sessions = engine.stats().expect("stats").sessions;
    println!(
        "{{\"sessions\":{sessions},\"rss_delta_bytes\":{},\"bytes_per_session\":{:.1}}}",
        after - before,
        (after - before) as f64 / sessions as f64
    );
}

fn main() {
    if std::env::args().any(|a| a == "memory") {
        memory();
        return;
    }
    let out_dir = std::env::var("BENCH_OUT_DIR").unwrap_or_else(|_| "target/bench-results".into());
    std::fs::create_dir_all(&out_dir).expect("create the results directory");
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "stores") {
        let url = args.get(at + 1).expect("usage: scale stores <redis-url>");
        stores::run(url, SECRET, &out_dir);
        return;
    }

    // Memory first, in a fresh process, before this one holds 1.1e6 sessions.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("memory")
        .output()
        .expect("run the memory child");
    let memory_json = String::from_utf8_lossy(&child.stdout).trim().to_string();
    eprintln!("scale: memory {memory_json}");

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let stores: Vec<(usize, Engine, Pool)> = SIZES
        .iter()
        .map(|&n| {
            let (e, p) = populated(n, &mut rng);
            (n, e, p)
        })
        .collect();
    for (_, e, p) in &stores {
        ns_per_validate(e, p); // warm up
    }
    let mut samples = vec![Vec::new(); stores.len()];
    for _ in 0..LATENCY_ROUNDS {
        for (k, (_, e, p)) in stores.iter().enumerate() {
            samples[k].push(ns_per_validate(e, p));
        }
    }
    // The largest store against the smallest, round by round: both were measured within a
    // fraction of a second, so a slow spell of the machine hits both sides of each ratio.
    let paired_ratio = median(
        samples[SIZES.len() - 1]
            .iter()
            .zip(&samples[0])
            .map(|(big, small)| big / small)
            .collect(),
    );
    let latency: Vec<(usize, f64)> = stores
        .iter()
        .zip(samples)
        .map(|((n, _, _), s)| (*n, median(s)))
        .collect();
    for (n, ns) in &latency {
        eprintln!("scale: validate with {n} sessions: {ns:.0} ns");
    }

    // Threads on the 1e5 store: alternate 1 and 2 threads so load changes hit both.
    let (_, e, p) = &stores[1];
    let (mut wall_ratio, mut cpu_ratio) = (Vec::new(), Vec::new());
    let (mut one_tput, mut two_tput) = (Vec::new(), Vec::new());
    for _ in 0..THREAD_ROUNDS {
        let one = run_threads(e, p, 1);
        let two = run_threads(e, p, 2);
        let t1 = one.ops as f64 / one.wall_s;
        let t2 = two.ops as f64 / two.wall_s;
        one_tput.push(t1);
        two_tput.push(t2);
        wall_ratio.push(t2 / t1);
        // CPU per op alone vs side by side: the scaling two free cores would give,
        // which a busy machine cannot fake (wall time is reported too).
        let per_op_1 = one.cpu_ns as f64 / one.ops as f64;
        let per_op_2 = two.cpu_ns as f64 / two.ops as f64;
        cpu_ratio.push(2.0 * per_op_1 / per_op_2);
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loadavg = loadavg.split_whitespace().next().unwrap_or("?").to_string();
    let json = format!(
        concat!(
            "{{\"pool_tokens\":{},\"validate_ns\":{{{}}},\"ratio_largest_smallest\":{:.3},",
            "\"threads\":{{\"one_ops_per_s\":{:.0},\"two_ops_per_s\":{:.0},",
            "\"wall_ratio\":{:.3},\"cpu_ratio\":{:.3},\"loadavg\":\"{}\"}},",
            "\"memory\":{}}}\n"
        ),
        POOL,
        latency
            .iter()
            .map(|(n, ns)| format!("\"{n}\":{ns:.1}"))
            .collect::<Vec<_>>()
            .join(","),
        paired_ratio,
        median(one_tput),
        median(two_tput),
        median(wall_ratio),
        median(cpu_ratio),
        loadavg,
        if memory_json.is_empty() {
            "null"
        } else {
            &memory_json
        },
    );
    eprintln!("scale: {json}");
    std::fs::write(format!("{out_dir}/scale.json"), json).expect("write scale.json");
}
