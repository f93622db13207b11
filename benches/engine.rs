//! keyfob against its peers, side by side in one run, on tokens of the same shape and key:
//! jsonwebtoken 9 `decode`/`encode` and the floor, ring `hmac::sign` over the same signing input.
//! `scripts/bench.sh` turns the medians into ratios in `target/bench-report.md`.
//! Times are the benchmark thread's CPU time (see `support/cpu_time.rs`).
//!
//! `keyfob_login` logs in while no session ends, so the store grows by millions of sessions
//! and each login also pays for memory the OS hands the store for the first time (on a VM,
//! the host's too). `benches/login.rs` measures login in a store of steady size as well.

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/peer.rs"]
mod peer;

use std::hint::black_box;
use std::time::Duration;

use cpu_time::ThreadCpuTime;
use criterion::{criterion_group, criterion_main, Criterion};
use keyfob::{Config, Engine};
use peer::{Peer, SECRET};

fn engine() -> Engine {
    Engine::new(Config::with_secret(SECRET)).expect("bench config is valid")
}

/// The signing input (`header.payload`) of a token: what the HMAC floor signs.
fn signing_input(token: &str) -> &str {
    &token[..token.rfind('.').expect("compact JWS")]
}

fn rust(c: &mut Criterion<ThreadCpuTime>) {
    let engine = engine();
    let pair = engine.login("42", None).expect("login");
    let access = pair.access.clone();
    let peer = Peer::of(&engine, &access);
    let hmac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let input = signing_input(&access).as_bytes().to_vec();

    let mut g = c.benchmark_group("rust");
    // Each of keyfob's functions right next to the peer it is compared with, so a slow spell
    // of the machine is less likely to fall on one side of a ratio only.
    g.bench_function("keyfob_validate", |b| {
        b.iter(|| engine.validate(black_box(&access)).unwrap())
    });
    g.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| peer.decode(black_box(&peer.token)))
    });
    g.bench_function("keyfob_verify", |b| {
        b.iter(|| engine.verify(black_box(&access)).unwrap())
    });
    g.bench_function("ring_hmac_sign", |b| {
        b.iter(|| ring::hmac::sign(&hmac_key, black_box(&input)))
    });
    g.bench_function("keyfob_login", |b| {
        b.iter(|| engine.login(black_box("42"), None).unwrap())
    });
    g.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| peer.encode(black_box(&peer.claims)))
    });
    let mut current = pair.refresh.clone().expect("login gives a refresh token");
    g.bench_function("keyfob_refresh", |b| {
        // Rotation: each refresh needs the current token, so the chain is carried along.
        b.iter(|| {
            let next = engine.refresh(black_box(&current)).unwrap();
            current = next.refresh.expect("rotation returns a refresh token");
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .without_plots();
    targets = rust
}
criterion_main!(benches);
