//! Property tests: random and mutated tokens fed to every token-taking entry point never
//! panic, and nothing validates that the engine did not issue.

mod common;

use std::sync::OnceLock;

use common::*;
use keyfob::{Config, Engine, ManualClock};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// One engine with a live session, shared by all cases (building keys is the slow part).
struct World {
    engine: Engine,
    issued: Vec<String>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut cfg = Config::with_secret(SECRET);
        cfg.accept_sessionless = true;
        cfg.reuse_grace_s = 1_000_000;
        let engine = Engine::builder(cfg)
            .clock(ManualClock::new(T0))
            .build()
            .unwrap();
        let pair = engine.login("alice", None).unwrap();
        let sliding = engine.login_sliding("bob", None).unwrap();
        let issued = vec![pair.access, pair.refresh.unwrap(), sliding.token];
        World { engine, issued }
    })
}

/// Every entry point that takes a token. Revoking is left out so the shared session lives.
fn feed(engine: &Engine, token: &str) -> [bool; 5] {
    [
        engine.validate(token).is_ok(),
        engine.validate_sliding(token).is_ok(),
        engine.verify(token).is_ok(),
        engine.refresh(token).is_ok(),
        engine.refresh_sliding(token).is_ok(),
    ]
}

/// A token built from an issued one by one edit.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Replace { at: usize, with: char },
    Insert { at: usize, with: char },
    Delete { at: usize },
    Truncate { at: usize },
    SwapSegments { a: usize, b: usize },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let alphabet = prop::sample::select(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u{0}é"
            .chars()
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        (any::<usize>(), 0u8..7).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), alphabet.clone()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        (any::<usize>(), alphabet).prop_map(|(at, with)| Mutation::Insert { at, with }),
        any::<usize>().prop_map(|at| Mutation::Delete { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (0usize..3, 0usize..3).prop_map(|(a, b)| Mutation::SwapSegments { a, b }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(token: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let n = chars.len();
    if n == 0 {
        return token.to_string();
    }
    match *m {
        Mutation::Flip { at, bit } => {
            let c = chars[at % n] as u8 ^ (1 << bit);
            chars[at % n] = c as char;
        }
        Mutation::Replace { at, with } => chars[at % n] = with,
        Mutation::Insert { at, with } => chars.insert(at % (n + 1), with),
        Mutation::Delete { at } => {
            chars.remove(at % n);
        }
        Mutation::Truncate { at } => chars.truncate(at % n),
        Mutation::SwapSegments { a, b } => {
            let mut parts: Vec<&str> = token.split('.').collect();
            let len = parts.len();
            parts.swap(a % len, b % len);
            return parts.join(".");
        }
        Mutation::Duplicate { at, len } => {
            let start = at % n;
            let end = (start + len).min(n);
            let piece: Vec<char> = chars[start..end].to_vec();
            chars.splice(end..end, piece);
        }
    }
    chars.into_iter().collect()
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN/inf", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        "[0-9a-f]{32}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claims objects that mix the reserved names with arbitrary values.
fn claims_object() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "token_type",
        "exp",
        "iat",
        "nbf",
        "jti",
        "user_id",
        "sid",
        "refresh_exp",
        "iss",
        "aud",
        "extra",
    ]);
    prop::collection::vec((name, json_value()), 0..10).prop_map(|pairs| {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_strings_never_validate_or_panic(token in ".{0,300}") {
        let w = world();
        prop_assert_eq!(feed(&w.engine, &token), [false; 5]);
        prop_assert!(w.engine.revoke(&token).is_err());
    }

    #[test]
    fn random_jws_shaped_strings_never_validate(
        h in "[A-Za-z0-9_-]{0,60}",
        p in "[A-Za-z0-9_-]{0,200}",
        s in "[A-Za-z0-9_-]{0,90}",
    ) {
        let w = world();
        let token = format!("{h}.{p}.{s}");
        prop_assert_eq!(feed(&w.engine, &token), [false; 5]);
    }

    #[test]
    fn mutated_issued_tokens_never_validate(which in 0usize..3, m in mutation()) {
        let w = world();
        let original = &w.issued[which];
        let token = apply(original, &m);
        if token == *original {
            return Ok(()); // an edit that changed nothing (same char, same segment)
        }
        prop_assert_eq!(feed(&w.engine, &token), [false; 5], "{:?}", m);
        prop_assert!(w.engine.revoke(&token).is_err());
    }

    #[test]
    fn doubly_mutated_issued_tokens_never_validate(
        which in 0usize..3,
        m1 in mutation(),
        m2 in mutation(),
    ) {
        let w = world();
        let original = &w.issued[which];
        let token = apply(&apply(original, &m1), &m2);
        if token == *original {
            return Ok(()); // an edit that changed nothing (same char, same segment)
        }
        prop_assert_eq!(feed(&w.engine, &token), [false; 5]);
    }

    #[test]
    fn arbitrary_claims_under_a_valid_signature_never_panic(claims in claims_object()) {
        // With the key, an attacker controls the payload: parsing and the session rules
        // must answer every shape with a result.
        let w = world();
        let token = forge(&claims);
        let _ = feed(&w.engine, &token);
        let _ = w.engine.revoke(&token);
    }

    #[test]
    fn arbitrary_headers_never_panic(header in json_value(), claims in claims_object()) {
        let w = world();
        let token = forge_raw(&header.to_string(), &claims.to_string());
        let ok = feed(&w.engine, &token);
        // Only a header equivalent to ours (alg HS256, nothing critical) can pass at all.
        if ok.iter().any(|&b| b) {
            prop_assert_eq!(&header["alg"], "HS256");
            prop_assert!(header.get("crit").is_none());
        }
    }
}

#[test]
fn the_issued_tokens_themselves_validate() {
    // The properties above are only meaningful if the originals are accepted.
    let w = world();
    w.engine.validate(&w.issued[0]).unwrap();
    w.engine.verify(&w.issued[1]).unwrap();
    w.engine.validate_sliding(&w.issued[2]).unwrap();
}
