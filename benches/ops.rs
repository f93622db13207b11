//! Instruction-count driver for callgrind: `ops <op> <iterations>` sets up once and runs one
//! operation `iterations` times. `scripts/bench.sh` runs it twice under
//! `valgrind --tool=callgrind` and divides the difference, which gives instructions per
//! operation: repeatable even on a busy machine, unlike wall time.
//!
//! `ops timed <rounds> <iterations>` times validate with exactly the loop and clock of
//! `benches/c/validate_bench.c`, so the C ABI is compared with Rust in the same harness.

use std::hint::black_box;

use keyfob::{Config, Engine};

#[path = "support/cpu_time.rs"]
#[allow(dead_code)] // the criterion measurement is not used here
mod cpu_time;
#[path = "support/peer.rs"]
mod peer;
#[path = "support/sample.rs"]
mod sample;
use cpu_time::thread_cpu_ns;
use peer::{Peer, SECRET};
use sample::median;

const OPS: &str = "timed|validate|verify|login|refresh|jwt_decode|jwt_encode|hmac_sign";

fn main() {
    // cargo bench appends `--bench`; positional arguments are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(op), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        // Nothing to count when run as part of `cargo bench`.
        eprintln!("usage: ops <{OPS}> <iterations>");
        return;
    };
    let engine = Engine::new(Config::with_secret(SECRET)).expect("bench config is valid");
    let pair = engine.login("42", None).expect("login");
    let access = pair.access.clone();
    if op == "timed" {
        let iterations = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2000);
        timed(&engine, &access, n as usize, iterations);
        return;
    }
    let peer = Peer::of(&engine, &access);
    let hmac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let input = access.as_bytes()[..access.rfind('.').unwrap()].to_vec();
    let mut current = pair.refresh.expect("refresh token");
    for _ in 0..n {
        match op.as_str() {
            "validate" => drop(black_box(engine.validate(black_box(&access)).unwrap())),
            "verify" => drop(black_box(engine.verify(black_box(&access)).unwrap())),
            "login" => drop(black_box(engine.login(black_box("42"), None).unwrap())),
            "refresh" => {
                current = engine
                    .refresh(black_box(&current))
                    .unwrap()
                    .refresh
                    .unwrap();
            }
            "jwt_decode" => drop(black_box(peer.decode(black_box(&peer.token)))),
            "jwt_encode" => drop(black_box(peer.encode(black_box(&peer.claims)))),
            "hmac_sign" => drop(black_box(ring::hmac::sign(&hmac_key, black_box(&input)))),
            other => panic!("unknown op {other}; one of {OPS}"),
        }
    }
}

/// Median CPU ns per validate: status only, and with the claims JSON copied into a caller
/// buffer (what `keyfob_engine_validate` and `keyfob_engine_validate_into` do), as the C bench
/// measures.
fn timed(engine: &Engine, access: &str, rounds: usize, iterations: usize) {
    let mut buf = [0u8; 1024];
    let (mut status_only, mut into_buffer) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t0 = thread_cpu_ns();
        for _ in 0..iterations {
            drop(black_box(engine.validate(black_box(access)).unwrap()));
        }
        let t1 = thread_cpu_ns();
        for _ in 0..iterations {
            let claims = engine.validate(black_box(access)).unwrap();
            let json = claims.to_json().as_bytes();
            buf[..json.len()].copy_from_slice(json);
            buf[json.len()] = 0;
            black_box(&buf);
        }
        let t2 = thread_cpu_ns();
        status_only.push((t1 - t0) as f64 / iterations as f64);
        into_buffer.push((t2 - t1) as f64 / iterations as f64);
    }
    println!(
        "{{\"validate_ns\": {:.1}, \"validate_into_ns\": {:.1}}}",
        median(status_only),
        median(into_buffer)
    );
}
