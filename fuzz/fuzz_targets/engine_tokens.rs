//! `Engine::validate`, `refresh` and `revoke` fed minted tokens, mutated minted tokens, and
//! odd payloads re-signed with the right key, while sessions log in, rotate, are revoked
//! and time passes. The invariant: a call accepts only
//! - a token the engine minted, unaltered, of the kind the call takes, unexpired, whose
//!   session the sequence has not seen revoked; or
//! - a re-signed token whose payload a strict JSON reading (no duplicate keys) agrees with
//!   the claims the engine read, of the right kind, unexpired, for a session the engine
//!   minted and the sequence has not seen revoked.
//!
//! The input is a program: each byte picks an operation, the next ones its arguments.

#![no_main]

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use keyfob::{Claims, Config, Engine, Error, ManualClock};
use libfuzzer_sys::fuzz_target;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789abcdef";
const START: i64 = 1_700_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Access,
    Refresh,
}

impl Kind {
    fn claim(self) -> &'static str {
        match self {
            Kind::Access => "access",
            Kind::Refresh => "refresh",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Call {
    Validate,
    Refresh,
    Revoke,
}

impl Call {
    fn takes(self, kind: Kind) -> bool {
        match self {
            Call::Validate => kind == Kind::Access,
            Call::Refresh => kind == Kind::Refresh,
            Call::Revoke => true,
        }
    }
}

struct Minted {
    token: String,
    kind: Kind,
    sid: String,
    exp: i64,
}

/// The input's bytes, one at a time (zeros once it runs out).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn below(&mut self, n: usize) -> usize {
        let wide = usize::from(self.byte()) << 8 | usize::from(self.byte());
        wide % n.max(1)
    }
}

struct World {
    engine: Engine,
    clock: ManualClock,
    config: Config,
    minted: Vec<Minted>,
    sessions: HashSet<String>,
    revoked: HashSet<String>,
}

impl World {
    fn new() -> World {
        let clock = ManualClock::new(START);
        let config = Config::with_secret(SECRET);
        let engine = Engine::builder(config.clone())
            .clock(clock.clone())
            .build()
            .expect("a valid config");
        World {
            engine,
            clock,
            config,
            minted: Vec::new(),
            sessions: HashSet::new(),
            revoked: HashSet::new(),
        }
    }

    fn now(&self) -> i64 {
        self.engine.now()
    }

    fn remember(&mut self, token: &str, kind: Kind) {
        let payload = payload_of(token).expect("a minted token has a JSON payload");
        let sid = payload["sid"].as_str().expect("a session token").to_owned();
        let exp = payload["exp"].as_i64().expect("an integer exp");
        self.sessions.insert(sid.clone());
        self.minted.push(Minted {
            token: token.to_owned(),
            kind,
            sid,
            exp,
        });
    }

    fn remember_pair(&mut self, pair: &keyfob::TokenPair) {
        self.remember(&pair.access, Kind::Access);
        if let Some(refresh) = &pair.refresh {
            self.remember(refresh, Kind::Refresh);
        }
    }

    /// A minted token, maybe mutated.
    fn token(&self, input: &mut Input<'_>) -> Option<String> {
        let minted = self.minted.get(input.below(self.minted.len()))?;
        let mut bytes = minted.token.clone().into_bytes();
        for _ in 0..input.byte() % 4 {
            let at = input.below(bytes.len() + 1);
            match input.byte() % 6 {
                0 if at < bytes.len() => bytes[at] ^= 1 << (input.byte() % 8),
                1 => bytes.insert(at, input.byte()),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                3 => bytes.truncate(at),
                // Another base64url character in place.
                4 if at < bytes.len() => {
                    const B64: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                    bytes[at] = B64[usize::from(input.byte()) % 64];
                }
                // Another token's signature.
                _ => {
                    let other = &self.minted[input.below(self.minted.len())].token;
                    if let (Some(a), Some(b)) = (rfind(&bytes, b'.'), other.rfind('.')) {
                        bytes.truncate(a);
                        bytes.extend_from_slice(&other.as_bytes()[b..]);
                    }
                }
            }
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A minted token's payload, edited in odd ways, re-signed with the right key.
    fn resigned(&self, input: &mut Input<'_>) -> Option<String> {
        let minted = self.minted.get(input.below(self.minted.len()))?;
        let (header, _) = minted.token.split_once('.')?;
        let mut text = String::from_utf8(payload_bytes(&minted.token)?).ok()?;
        for _ in 0..1 + input.byte() % 3 {
            let at = floor_char(&text, input.below(text.len() + 1));
            let piece = match input.byte() % 12 {
                0 => " ",
                1 => "\\u0073",
                2 => ",\"sid\":\"00000000000000000000000000000000\"",
                3 => ",\"exp\":1e30",
                4 => ",\"token_type\":\"access\"",
                5 => ",\"token_type\":\"refresh\"",
                6 => "\"",
                7 => "}",
                8 => "-0",
                9 => ".5",
                10 => "\\",
                _ => {
                    // Drop a few bytes.
                    let end = floor_char(&text, (at + 1 + input.below(8)).min(text.len()));
                    text.replace_range(at..end, "");
                    continue;
                }
            };
            text.insert_str(at, piece);
        }
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&text));
        let sig = keyfob::internal::jws::sign(&self.config, signing_input.as_bytes()).ok()?;
        Some(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// `call` accepted `token` (and the engine read `claims` from it, for a validate): it
    /// must be one the invariant allows.
    fn accepted(&self, call: Call, token: &str, claims: Option<&Claims>) {
        let now = self.now();
        if let Some(m) = self.minted.iter().find(|m| m.token == token) {
            assert!(call.takes(m.kind), "{call:?} accepted a {:?} token", m.kind);
            assert!(
                now < m.exp,
                "{call:?} accepted an expired token at {now}: {token}"
            );
            assert!(
                !self.revoked.contains(&m.sid),
                "{call:?} accepted a revoked session's token"
            );
            return;
        }
        // Not minted: only a right-key re-sign can pass the signature check.
        let payload = payload_bytes(token).expect("an accepted token has a payload");
        let strict: Strict = serde_json::from_slice(&payload).unwrap_or_else(|e| {
            panic!("{call:?} accepted a payload a strict reading refuses ({e}): {token}")
        });
        let Value::Object(claims_read) = strict.0 else {
            panic!("{call:?} accepted a payload that is not an object: {token}");
        };
        let string = |k: &str| claims_read.get(k).and_then(Value::as_str);
        let kind = string("token_type").expect("a token type");
        assert!(
            [Kind::Access, Kind::Refresh]
                .iter()
                .any(|k| k.claim() == kind && call.takes(*k)),
            "{call:?} accepted token type {kind:?}"
        );
        let sid = string("sid").expect("a session id");
        assert!(
            self.sessions.contains(sid),
            "{call:?} accepted a session never minted: {sid}"
        );
        assert!(
            !self.revoked.contains(sid),
            "{call:?} accepted a revoked session"
        );
        let exp = claims_read
            .get("exp")
            .and_then(Value::as_f64)
            .expect("an exp");
        assert!((now as f64) < exp, "{call:?} accepted an expired token");
        if let Some(claims) = claims {
            assert_eq!(Some(claims.jti()), string("jti"), "jti read differently");
            // A user id is a string, or an integer (simplejwt's numeric primary keys) read
            // as its decimal form.
            let user_id = match claims_read.get("user_id") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) if n.is_i64() => Some(n.to_string()),
                _ => None,
            };
            assert_eq!(
                Some(claims.user_id()),
                user_id.as_deref(),
                "user id read differently"
            );
            assert_eq!(claims.sid(), Some(sid), "sid read differently");
            // NumericDate fractions are floored (the token expires at most a second early),
            // and a date past what i64 seconds hold reads as the last one.
            let expected = exp.floor().min(i64::MAX as f64);
            assert_eq!(claims.exp() as f64, expected, "exp read differently");
        }
    }

    fn call(&mut self, call: Call, token: &str) {
        match call {
            Call::Validate => {
                if let Ok(claims) = self.engine.validate(token) {
                    self.accepted(call, token, Some(&claims));
                }
            }
            Call::Refresh => match self.engine.refresh(token) {
                Ok(pair) => {
                    self.accepted(call, token, None);
                    self.remember_pair(&pair);
                }
                // A replay: the engine revoked the session the token names.
                Err(Error::ReuseDetected) => {
                    if let Some(sid) =
                        payload_of(token).and_then(|p| p["sid"].as_str().map(str::to_owned))
                    {
                        self.revoked.insert(sid);
                    }
                }
                Err(_) => {}
            },
            Call::Revoke => {
                let sid = payload_of(token).and_then(|p| p["sid"].as_str().map(str::to_owned));
                if self.engine.revoke(token).is_ok() {
                    self.accepted(call, token, None);
                    self.revoked.extend(sid);
                }
            }
        }
    }
}

fn rfind(bytes: &[u8], b: u8) -> Option<usize> {
    bytes.iter().rposition(|&x| x == b)
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn payload_bytes(token: &str) -> Option<Vec<u8>> {
    let mut parts = token.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    URL_SAFE_NO_PAD.decode(payload).ok()
}

fn payload_of(token: &str) -> Option<Value> {
    serde_json::from_slice(&payload_bytes(token)?).ok()
}

/// JSON read strictly: a duplicate key anywhere is an error.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON without duplicate keys")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if entries.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
        }
        Ok(Value::Object(entries.into_iter().collect()))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut world = World::new();
    let mut input = Input(data);
    // Every run starts with a session, so there is always something to mutate.
    let pair = world.engine.login("alice", None).expect("login");
    world.remember_pair(&pair);
    while !input.0.is_empty() {
        let calls = [Call::Validate, Call::Refresh, Call::Revoke];
        match input.byte() % 8 {
            0 => {
                let user = ["alice", "bob", "42"][input.below(3)];
                let pair = world.engine.login(user, None).expect("login");
                world.remember_pair(&pair);
            }
            1..=4 => {
                let call = calls[input.below(3)];
                if let Some(token) = world.token(&mut input) {
                    world.call(call, &token);
                }
            }
            5 | 6 => {
                let call = calls[input.below(3)];
                if let Some(token) = world.resigned(&mut input) {
                    world.call(call, &token);
                }
            }
            _ => world.clock.advance(i64::from(input.byte() % 120)),
        }
    }
});
