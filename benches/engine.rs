//! keyfob against its peers, side by side in one run, on tokens of the same shape and key:
//! jsonwebtoken 9 `decode`/`encode` and the floor, ring `hmac::sign` over the same signing input.
//! `scripts/bench.sh` turns the medians into ratios in `target/bench-report.md`.
//! Times are the benchmark thread's CPU time (see `support/cpu_time.rs`).

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;
use std::time::Duration;

use cpu_time::ThreadCpuTime;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use keyfob::{Config, Engine};
use serde::{Deserialize, Serialize};

const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

/// The claims of a keyfob access token, as a jsonwebtoken user would declare them.
#[derive(Serialize, Deserialize)]
struct AccessClaims {
    token_type: String,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: String,
    sid: String,
}

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
    let claims = engine.verify(&access).expect("fresh token verifies");
    // The peer signs exactly the claims keyfob wrote (read back through the payload JSON).
    let peer_claims: AccessClaims =
        serde_json::from_str(claims.to_json()).expect("keyfob access-token claims");
    let enc_key = EncodingKey::from_secret(SECRET.as_bytes());
    let dec_key = DecodingKey::from_secret(SECRET.as_bytes());
    let validation = Validation::new(Algorithm::HS256);
    // Same header and claims, so the peer token has the same shape and length.
    let peer_token = jsonwebtoken::encode(&Header::default(), &peer_claims, &enc_key).unwrap();
    assert_eq!(
        peer_token.len(),
        access.len(),
        "peer token has the same shape"
    );
    let hmac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let input = signing_input(&access).as_bytes().to_vec();

    let mut g = c.benchmark_group("rust");
    g.bench_function("keyfob_validate", |b| {
        b.iter(|| engine.validate(black_box(&access)).unwrap())
    });
    g.bench_function("keyfob_verify", |b| {
        b.iter(|| engine.verify(black_box(&access)).unwrap())
    });
    g.bench_function("keyfob_login", |b| {
        b.iter(|| engine.login(black_box("42"), None).unwrap())
    });
    let mut current = pair.refresh.clone().expect("login gives a refresh token");
    g.bench_function("keyfob_refresh", |b| {
        // Rotation: each refresh needs the current token, so the chain is carried along.
        b.iter(|| {
            let next = engine.refresh(black_box(&current)).unwrap();
            current = next.refresh.expect("rotation returns a refresh token");
        })
    });
    g.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<AccessClaims>(black_box(&peer_token), &dec_key, &validation)
                .unwrap()
        })
    });
    g.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| {
            jsonwebtoken::encode(&Header::default(), black_box(&peer_claims), &enc_key).unwrap()
        })
    });
    g.bench_function("ring_hmac_sign", |b| {
        b.iter(|| ring::hmac::sign(&hmac_key, black_box(&input)))
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
