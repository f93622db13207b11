//! DPoP (RFC 9449): proofs made here with real ring keys (ES256 and Ed25519). A session
//! created with a proof is bound to the key's RFC 7638 thumbprint, carried as `cnf.jkt`;
//! a stolen refresh or access token is useless without the key: replayed without a proof,
//! with another key's proof, with a replayed proof, with a proof for another URL or method,
//! or with a stale one, it is refused with the right error. Unbound sessions are unchanged.
//! The session behaviours run on the memory store, and on Redis with the `redis` feature.

#[macro_use]
mod client_binding_support;

use client_binding_support::{
    b64, config, engine, payload_of, sha256, sid_of, Backend, DpopClient, LOGIN_URL, RESOURCE_URL,
    TOKEN_URL,
};
use keyfob::{jwk_thumbprint, Config, DpopRequest, Engine, Error, ErrorCode, Presentation};
use serde_json::json;

fn dpop<'a>(proof: &'a str, method: &'a str, url: &'a str) -> Presentation<'a> {
    Presentation::none().with_dpop(DpopRequest::new(proof, method, url))
}

fn refresh_token(pair: &keyfob::TokenPair) -> &str {
    pair.refresh.as_deref().expect("a refresh token")
}

fn login(e: &Engine, key: &DpopClient) -> keyfob::TokenPair {
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    e.login_bound("alice", None, &dpop(&proof, "POST", LOGIN_URL))
        .expect("a DPoP login")
}

fn refresh(e: &Engine, key: &DpopClient, token: &str) -> Result<keyfob::TokenPair, Error> {
    let proof = key.proof("POST", TOKEN_URL, e.now(), None);
    e.refresh_bound(token, &dpop(&proof, "POST", TOKEN_URL))
}

fn validate(e: &Engine, key: &DpopClient, access: &str) -> Result<keyfob::Claims, Error> {
    let proof = key.proof("GET", RESOURCE_URL, e.now(), Some(access));
    e.validate_bound(access, &dpop(&proof, "GET", RESOURCE_URL))
}

fn is_dpop_invalid(r: Result<impl std::fmt::Debug, Error>, why: &str) {
    match r {
        Err(Error::DpopInvalid(m)) => assert!(m.contains(why), "{m:?} lacks {why:?}"),
        other => panic!("expected dpop_invalid ({why}), got {other:?}"),
    }
}

// ---------------------------------------------------------------- RFC 7638 thumbprints

#[test]
fn rfc7638_section_3_1_example() {
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
    assert_eq!(jwk_thumbprint(&jwk.to_string()).unwrap(), expected);
    // Member order, whitespace and optional members do not matter.
    let reordered = format!(
        "{{ \"kid\": \"other\", \"e\": \"AQAB\",\n \"use\": \"sig\", \"n\": \"{n}\", \"kty\": \"RSA\" }}"
    );
    assert_eq!(jwk_thumbprint(&reordered).unwrap(), expected);
    // The digest is over the exact canonical JSON the RFC shows.
    let canonical = format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#);
    assert_eq!(b64(&sha256(canonical.as_bytes())), expected);
    // Any required member changed or missing changes or refuses the thumbprint.
    let other_e = json!({"kty": "RSA", "n": n, "e": "AQAC"});
    assert_ne!(jwk_thumbprint(&other_e.to_string()).unwrap(), expected);
    for bad in [
        json!({"kty": "RSA", "n": n}),
        json!({"kty": "oct", "k": "c2VjcmV0"}),
        json!({"n": n, "e": "AQAB"}),
        json!(["not", "an", "object"]),
    ] {
        let err = jwk_thumbprint(&bad.to_string()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{bad}");
    }
}

#[test]
fn thumbprints_of_ec_and_okp_keys_follow_the_definition() {
    for key in [DpopClient::es256(), DpopClient::ed25519()] {
        let mut jwk = key.jwk.clone();
        jwk["kid"] = json!("ignored");
        jwk["use"] = json!("sig");
        assert_eq!(jwk_thumbprint(&jwk.to_string()).unwrap(), key.jkt());
    }
}

// ---------------------------------------------------------------- bound sessions

fn a_proof_binds_the_session_to_the_key(backend: Backend) {
    for key in [DpopClient::es256(), DpopClient::ed25519()] {
        let (e, clock, store) = engine(backend, config());
        let pair = login(&e, &key);
        for token in [&pair.access, refresh_token(&pair)] {
            assert_eq!(payload_of(token)["cnf"], json!({"jkt": key.jkt()}));
        }
        let session = store.get(sid_of(&e, &pair.access)).unwrap().expect("held");
        assert_eq!(b64(&session.binding.jkt.expect("bound")), key.jkt());
        assert_eq!(session.binding.client, None);

        assert_eq!(validate(&e, &key, &pair.access).unwrap().user_id(), "alice");
        clock.advance(30);
        let next = refresh(&e, &key, refresh_token(&pair)).unwrap();
        for token in [&next.access, refresh_token(&next)] {
            assert_eq!(payload_of(token)["cnf"], json!({"jkt": key.jkt()}));
        }
        assert!(validate(&e, &key, &next.access).is_ok());
        // The claims say which key, for a resource server that wants to know.
        let claims = e.verify(&next.access).unwrap();
        assert_eq!(claims.extra()["cnf"]["jkt"], json!(key.jkt()));
    }
}

fn a_stolen_refresh_token_is_useless_without_the_key(backend: Backend) {
    let (e, clock, _) = engine(backend, config());
    let owner = DpopClient::es256();
    let thief = DpopClient::ed25519();
    let pair = login(&e, &owner);
    let stolen = refresh_token(&pair);
    clock.advance(5);

    // Without a proof: as a Bearer token.
    is_dpop_invalid(e.refresh(stolen), "a proof is required");
    // With a proof from the thief's own key.
    is_dpop_invalid(
        refresh(&e, &thief, stolen),
        "not the key the session is bound to",
    );
    is_dpop_invalid(
        refresh(&e, &DpopClient::es256(), stolen),
        "not the key the session is bound to",
    );
    // With a proof the owner sent earlier (captured on the wire).
    let captured = owner.proof("POST", TOKEN_URL, e.now(), None);
    let first = e.refresh_bound(stolen, &dpop(&captured, "POST", TOKEN_URL));
    let pair = first.expect("the owner's own refresh");
    let stolen = refresh_token(&pair);
    let replay = e.refresh_bound(stolen, &dpop(&captured, "POST", TOKEN_URL));
    assert_eq!(replay, Err(Error::DpopReplayed));
    assert_eq!(replay.unwrap_err().code() as u32, 23);
    // With an owner's proof made for another URL or method.
    let elsewhere = owner.proof(
        "POST",
        "https://evil.example/api/token/refresh/",
        e.now(),
        None,
    );
    is_dpop_invalid(
        e.refresh_bound(stolen, &dpop(&elsewhere, "POST", TOKEN_URL)),
        "htu",
    );
    let other_method = owner.proof("GET", TOKEN_URL, e.now(), None);
    is_dpop_invalid(
        e.refresh_bound(stolen, &dpop(&other_method, "POST", TOKEN_URL)),
        "htm",
    );
    // With a stale proof of the owner's (older than the window), or one dated ahead.
    let stale = owner.proof("POST", TOKEN_URL, e.now() - 61, None);
    is_dpop_invalid(
        e.refresh_bound(stolen, &dpop(&stale, "POST", TOKEN_URL)),
        "too old",
    );
    let ahead = owner.proof("POST", TOKEN_URL, e.now() + 61, None);
    is_dpop_invalid(
        e.refresh_bound(stolen, &dpop(&ahead, "POST", TOKEN_URL)),
        "future",
    );

    // None of it rotated or revoked anything: the owner carries on.
    let next = refresh(&e, &owner, stolen).expect("the owner refreshes");
    assert!(validate(&e, &owner, &next.access).is_ok());
}

fn a_stolen_access_token_is_useless_without_the_key(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let owner = DpopClient::ed25519();
    let thief = DpopClient::ed25519();
    let pair = login(&e, &owner);
    let access = &pair.access;

    is_dpop_invalid(e.validate(access), "a proof is required");
    let theirs = thief.proof("GET", RESOURCE_URL, e.now(), Some(access));
    is_dpop_invalid(
        e.validate_bound(access, &dpop(&theirs, "GET", RESOURCE_URL)),
        "not the key",
    );
    // A resource request's proof must carry the token's hash.
    let no_ath = owner.proof("GET", RESOURCE_URL, e.now(), None);
    is_dpop_invalid(
        e.validate_bound(access, &dpop(&no_ath, "GET", RESOURCE_URL)),
        "no ath",
    );
    let other = login(&e, &owner);
    let for_other_token = owner.proof("GET", RESOURCE_URL, e.now(), Some(&other.access));
    is_dpop_invalid(
        e.validate_bound(access, &dpop(&for_other_token, "GET", RESOURCE_URL)),
        "ath",
    );
    let good = owner.proof("GET", RESOURCE_URL, e.now(), Some(access));
    assert!(e
        .validate_bound(access, &dpop(&good, "GET", RESOURCE_URL))
        .is_ok());
    assert_eq!(
        e.validate_bound(access, &dpop(&good, "GET", RESOURCE_URL)),
        Err(Error::DpopReplayed)
    );
    let post = owner.proof("GET", RESOURCE_URL, e.now(), Some(access));
    is_dpop_invalid(
        e.validate_bound(access, &dpop(&post, "POST", RESOURCE_URL)),
        "htm",
    );
    // verify() checks the token, not the request: it needs no proof.
    assert!(e.verify(access).is_ok());
}

fn without_rotation_refresh_needs_the_proof(backend: Backend) {
    let cfg = Config {
        rotate_refresh: false,
        ..config()
    };
    let (e, _, _) = engine(backend, cfg);
    let key = DpopClient::es256();
    let pair = login(&e, &key);
    is_dpop_invalid(e.refresh(refresh_token(&pair)), "a proof is required");
    let next = refresh(&e, &key, refresh_token(&pair)).unwrap();
    assert!(next.refresh.is_none());
    assert_eq!(payload_of(&next.access)["cnf"]["jkt"], json!(key.jkt()));
    assert!(validate(&e, &key, &next.access).is_ok());
}

fn reuse_detection_still_holds_for_bound_sessions(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let key = DpopClient::es256();
    let pair = login(&e, &key);
    let next = refresh(&e, &key, refresh_token(&pair)).unwrap();
    // Even the key holder replaying an old refresh token is reuse.
    assert_eq!(
        refresh(&e, &key, refresh_token(&pair)),
        Err(Error::ReuseDetected)
    );
    assert_eq!(validate(&e, &key, &next.access), Err(Error::Revoked));
}

fn client_id_and_dpop_bind_together(backend: Backend) {
    let (e, _, store) = engine(backend, config());
    let key = DpopClient::ed25519();
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    let both = Presentation::none()
        .with_client_id("spa")
        .with_dpop(DpopRequest::new(&proof, "POST", LOGIN_URL));
    let pair = e.login_bound("alice", None, &both).unwrap();
    let session = store.get(sid_of(&e, &pair.access)).unwrap().unwrap();
    assert_eq!(session.binding.client, Some(sha256(b"spa")));
    // The key alone is not enough, nor the client alone.
    assert_eq!(
        refresh(&e, &key, refresh_token(&pair)),
        Err(Error::ClientMismatch)
    );
    let pair = login_both(&e, &key);
    let only_client = Presentation::none().with_client_id("spa");
    is_dpop_invalid(
        e.refresh_bound(refresh_token(&pair), &only_client),
        "a proof is required",
    );
    let proof = key.proof("POST", TOKEN_URL, e.now(), None);
    let both = Presentation::none()
        .with_client_id("spa")
        .with_dpop(DpopRequest::new(&proof, "POST", TOKEN_URL));
    assert!(e.refresh_bound(refresh_token(&pair), &both).is_ok());
}

fn login_both(e: &Engine, key: &DpopClient) -> keyfob::TokenPair {
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    let both = Presentation::none()
        .with_client_id("spa")
        .with_dpop(DpopRequest::new(&proof, "POST", LOGIN_URL));
    e.login_bound("alice", None, &both).unwrap()
}

fn unbound_sessions_ignore_proofs(backend: Backend) {
    let (e, clock, _) = engine(backend, config());
    let pair = e.login("bob", None).unwrap();
    assert!(payload_of(&pair.access).get("cnf").is_none());
    // A proof, even a broken one, sent with an unbound token changes nothing.
    let junk = dpop("not.a.proof", "GET", RESOURCE_URL);
    assert!(e.validate_bound(&pair.access, &junk).is_ok());
    clock.advance(5);
    let next = e.refresh_bound(refresh_token(&pair), &junk).unwrap();
    assert!(payload_of(&next.access).get("cnf").is_none());
    let last = e.refresh(refresh_token(&next)).unwrap();
    assert!(e.validate(&last.access).is_ok());
    e.revoke(refresh_token(&last)).unwrap();
    assert_eq!(e.validate(&last.access), Err(Error::Revoked));
}

on_every_store!(
    a_proof_binds_the_session_to_the_key,
    a_stolen_refresh_token_is_useless_without_the_key,
    a_stolen_access_token_is_useless_without_the_key,
    without_rotation_refresh_needs_the_proof,
    reuse_detection_still_holds_for_bound_sessions,
    client_id_and_dpop_bind_together,
    unbound_sessions_ignore_proofs,
);

// ---------------------------------------------------------------- the proof itself

/// Login with a proof signed by `key` over `header` and `claims`.
fn login_with(
    e: &Engine,
    key: &DpopClient,
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> Result<keyfob::TokenPair, Error> {
    let proof = key.sign(header, claims);
    e.login_bound("alice", None, &dpop(&proof, "POST", LOGIN_URL))
}

#[test]
fn hostile_proof_headers_are_refused() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::es256();
    let claims = || key.claims("POST", LOGIN_URL, e.now(), None);
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut h = key.header();
        f(&mut h);
        h
    };
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (with(&|h| h["typ"] = json!("JWT")), "typ"),
        (with(&|h| h["typ"] = json!("DPOP+JWT")), "typ"),
        (
            with(&|h| drop(h.as_object_mut().unwrap().remove("typ"))),
            "typ",
        ),
        (with(&|h| h["alg"] = json!("HS256")), "alg"),
        (with(&|h| h["alg"] = json!("none")), "alg"),
        (with(&|h| h["alg"] = json!("RS256")), "alg"),
        (with(&|h| h["alg"] = json!("EdDSA")), "OKP Ed25519"),
        (
            with(&|h| drop(h.as_object_mut().unwrap().remove("jwk"))),
            "no jwk",
        ),
        (
            with(&|h| h["jwk"]["d"] = json!(b64(&[7; 32]))),
            "private member 'd'",
        ),
        (with(&|h| h["jwk"]["crv"] = json!("P-384")), "EC P-256"),
        (
            with(&|h| h["jwk"]["x"] = json!(b64(&[1; 31]))),
            "not 32 bytes",
        ),
        (with(&|h| h["crit"] = json!(["exp"])), "crit"),
        // Another key in the header than the one that signed.
        (with(&|h| h["jwk"] = DpopClient::es256().jwk), "signature"),
    ];
    for (header, why) in cases {
        is_dpop_invalid(login_with(&e, &key, &header, &claims()), why);
    }
    // EdDSA with an EC key in the header.
    let ed = DpopClient::ed25519();
    let mut header = ed.header();
    header["jwk"] = key.jwk.clone();
    is_dpop_invalid(login_with(&e, &ed, &header, &claims()), "OKP Ed25519");
    assert_eq!(e.stats().unwrap().sessions, 0);
}

#[test]
fn hostile_proof_claims_are_refused() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::ed25519();
    let now = e.now();
    let fresh = || key.claims("POST", LOGIN_URL, now, None);
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = fresh();
        f(&mut c);
        c
    };
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            with(&|c| drop(c.as_object_mut().unwrap().remove("jti"))),
            "jti",
        ),
        (with(&|c| c["jti"] = json!("")), "jti"),
        (with(&|c| c["jti"] = json!(7)), "jti"),
        (with(&|c| c["jti"] = json!("j".repeat(257))), "jti"),
        (
            with(&|c| drop(c.as_object_mut().unwrap().remove("htm"))),
            "htm",
        ),
        (with(&|c| c["htm"] = json!("post")), "htm"),
        (
            with(&|c| drop(c.as_object_mut().unwrap().remove("htu"))),
            "htu",
        ),
        (
            with(&|c| c["htu"] = json!("https://api.example.com/api/token")),
            "htu",
        ),
        (
            with(&|c| c["htu"] = json!("http://api.example.com/api/token/")),
            "htu",
        ),
        (with(&|c| c["htu"] = json!("/api/token/")), "htu"),
        (
            with(&|c| drop(c.as_object_mut().unwrap().remove("iat"))),
            "iat",
        ),
        (with(&|c| c["iat"] = json!(now.to_string())), "iat"),
        (with(&|c| c["iat"] = json!(now - 61)), "too old"),
        (with(&|c| c["iat"] = json!(now + 61)), "future"),
    ];
    for (claims, why) in cases {
        is_dpop_invalid(login_with(&e, &key, &key.header(), &claims), why);
    }
    // At the edges of the window (and of the clock skew ahead), and as a fraction: accepted.
    for iat in [json!(now - 60), json!(now + 5), json!(now as f64 + 0.5)] {
        let claims = with(&|c| c["iat"] = iat.clone());
        assert!(
            login_with(&e, &key, &key.header(), &claims).is_ok(),
            "{iat}"
        );
    }
}

#[test]
fn broken_proofs_are_refused() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::es256();
    let good = key.proof("POST", LOGIN_URL, e.now(), None);
    let [h, p, s]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let other_payload = b64(key
        .claims("POST", LOGIN_URL, e.now(), None)
        .to_string()
        .as_bytes());
    let oversized = format!("{h}.{}.{s}", "A".repeat(9000));
    for proof in [
        String::new(),
        "a.b".into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.x"),
        format!("{h}.{other_payload}.{s}"),
        format!("{h}.{p}.{}", b64(&[0; 64])),
        format!("{h}.{p}.!!"),
        format!("{}.{p}.{s}", b64(b"[1]")),
        format!("{h}.{}.{s}", b64(b"not json")),
        oversized,
    ] {
        let r = e.login_bound("alice", None, &dpop(&proof, "POST", LOGIN_URL));
        assert!(
            matches!(r, Err(Error::DpopInvalid(_))),
            "{proof:.40}: {r:?}"
        );
    }
    assert!(e
        .login_bound("alice", None, &dpop(&good, "POST", LOGIN_URL))
        .is_ok());
}

#[test]
fn htu_is_compared_without_query_or_fragment() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::ed25519();
    for (htu, request_url) in [
        (LOGIN_URL, "https://api.example.com/api/token/?next=/home"),
        (LOGIN_URL, "https://API.Example.com:443/api/token/#frag"),
        ("https://api.example.com/api/token/?a=1", LOGIN_URL),
        ("https://api.example.com", "https://api.example.com/"),
    ] {
        let proof = key.proof("POST", htu, e.now(), None);
        assert!(
            e.login_bound("alice", None, &dpop(&proof, "POST", request_url))
                .is_ok(),
            "{htu} vs {request_url}"
        );
    }
    // The path is compared exactly.
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    is_dpop_invalid(
        e.login_bound(
            "alice",
            None,
            &dpop(&proof, "POST", "https://api.example.com/API/token/"),
        ),
        "htu",
    );
    // The caller's own URL must be absolute: that is a programming error, not a bad proof.
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    let r = e.login_bound("alice", None, &dpop(&proof, "POST", "/api/token/"));
    assert_eq!(r.unwrap_err().code(), ErrorCode::InvalidArgument);
    let r = e.login_bound("alice", None, &dpop(&proof, "", LOGIN_URL));
    assert_eq!(r.unwrap_err().code(), ErrorCode::InvalidArgument);
}

#[test]
fn the_replay_cache_is_bounded_and_forgets_expired_proofs() {
    let cfg = Config {
        dpop_replay_cache_size: 2,
        dpop_iat_window_s: 10,
        ..config()
    };
    let (e, clock, _) = engine(Backend::Memory, cfg);
    let key = DpopClient::es256();
    let first = key.proof("POST", LOGIN_URL, e.now(), None);
    e.login_bound("alice", None, &dpop(&first, "POST", LOGIN_URL))
        .unwrap();
    assert_eq!(
        e.login_bound("alice", None, &dpop(&first, "POST", LOGIN_URL)),
        Err(Error::DpopReplayed)
    );
    clock.advance(5);
    login(&e, &key);
    // Full of proofs that could still be replayed: refuse rather than forget one.
    is_dpop_invalid(
        e.login_bound(
            "alice",
            None,
            &dpop(
                &key.proof("POST", LOGIN_URL, e.now(), None),
                "POST",
                LOGIN_URL,
            ),
        ),
        "too many recent proofs",
    );
    // Once the first proof's iat has left the window it makes room, and it is refused as stale.
    clock.advance(6);
    login(&e, &key);
    is_dpop_invalid(
        e.login_bound("alice", None, &dpop(&first, "POST", LOGIN_URL)),
        "too old",
    );
    // Long after, everything has expired and the cache takes new proofs again.
    clock.advance(60);
    login(&e, &key);
    login(&e, &key);
}

#[test]
fn proofs_from_unbound_keys_never_fill_the_replay_cache() {
    let cfg = Config {
        dpop_replay_cache_size: 1,
        ..config()
    };
    let (e, _, _) = engine(Backend::Memory, cfg);
    let owner = DpopClient::es256();
    let pair = login(&e, &owner); // the one slot
    let thief = DpopClient::es256();
    for _ in 0..3 {
        is_dpop_invalid(refresh(&e, &thief, refresh_token(&pair)), "not the key");
    }
    // The one slot still holds the owner's login proof: a new proof finds the cache full.
    let login_proof = owner.proof("POST", LOGIN_URL, e.now(), None);
    is_dpop_invalid(
        e.login_bound("bob", None, &dpop(&login_proof, "POST", LOGIN_URL)),
        "too many",
    );
}

#[test]
fn extra_cnf_is_reserved_for_bound_logins() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::ed25519();
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(json!({"cnf": {"jkt": "forged"}, "role": "admin"})).unwrap();
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    let err = e
        .login_bound("alice", Some(&extra), &dpop(&proof, "POST", LOGIN_URL))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    // Other extra claims ride along and survive a refresh next to the real cnf.
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(json!({"role": "admin"})).unwrap();
    let pair = e
        .login_bound("alice", Some(&extra), &dpop(&proof, "POST", LOGIN_URL))
        .unwrap();
    let next = refresh(&e, &key, refresh_token(&pair)).unwrap();
    let payload = payload_of(&next.access);
    assert_eq!(payload["role"], json!("admin"));
    assert_eq!(payload["cnf"], json!({"jkt": key.jkt()}));
    let raw = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            next.access.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(raw.matches("\"cnf\"").count(), 1, "{raw}");
}

#[test]
fn dpop_errors_have_stable_codes() {
    assert_eq!(ErrorCode::DpopInvalid as u32, 22);
    assert_eq!(ErrorCode::DpopReplayed as u32, 23);
    assert_eq!(Error::DpopReplayed.name(), "dpop_replayed");
    let err = Error::DpopInvalid("the proof's htu is not the request URL".into());
    assert_eq!(err.name(), "dpop_invalid");
    assert!(err.to_string().contains("htu"));
}

/// Two workers on one Redis: a proof accepted by one is refused by the other, because proof
/// ids are recorded in the shared store (each engine's own cache only sees its own requests).
#[cfg(feature = "redis")]
#[test]
fn a_proof_replayed_to_another_worker_is_caught_on_redis() {
    let (first, clock, store) = engine(Backend::Redis, config());
    let second = Engine::builder(config())
        .clock(clock.clone())
        .store(store)
        .build()
        .expect("valid config");
    let key = DpopClient::es256();
    let pair = login(&first, &key);
    let proof = key.proof("GET", RESOURCE_URL, first.now(), Some(&pair.access));
    let request = dpop(&proof, "GET", RESOURCE_URL);
    assert!(first.validate_bound(&pair.access, &request).is_ok());
    assert_eq!(
        second.validate_bound(&pair.access, &request),
        Err(Error::DpopReplayed)
    );
    // A fresh proof works on either worker.
    assert!(validate(&second, &key, &pair.access).is_ok());
}

#[test]
fn a_proof_may_be_dated_ahead_only_by_clock_skew() {
    let (e, _, _) = engine(Backend::Memory, config());
    let key = DpopClient::ed25519();
    let ahead = key.proof("POST", LOGIN_URL, e.now() + 6, None);
    is_dpop_invalid(
        e.login_bound("alice", None, &dpop(&ahead, "POST", LOGIN_URL)),
        "future",
    );
    let skewed = key.proof("POST", LOGIN_URL, e.now() + 5, None);
    assert!(e
        .login_bound("alice", None, &dpop(&skewed, "POST", LOGIN_URL))
        .is_ok());
}
