//! The whole life of a session: login → validate → refresh → logout → validate fails.
//!
//! Run with `cargo run --example basic`. Every step checks its result and panics on a
//! wrong one, so a zero exit status means the flow behaved as documented.

use keyfob::{Config, Engine, Error};

fn main() -> Result<(), Error> {
    // In a real deployment the secret comes from the environment or a secret store.
    let engine = Engine::new(Config::with_secret(
        "example-secret-please-change-me-0123456789",
    ))?;

    let pair = engine.login("alice", None)?;
    let refresh = pair
        .refresh
        .clone()
        .expect("login always returns a refresh token");
    println!("login     → session {}", pair.session_id);
    println!(
        "            access  …{} ({} bytes)",
        tail(&pair.access),
        pair.access.len()
    );
    println!(
        "            refresh …{} ({} bytes)",
        tail(&refresh),
        refresh.len()
    );

    let claims = engine.validate(&pair.access)?;
    assert_eq!(claims.user_id(), "alice");
    assert_eq!(claims.sid(), Some(pair.session_id.as_str()));
    println!(
        "validate  → ok, user_id={} exp={}",
        claims.user_id(),
        claims.exp()
    );

    let rotated = engine.refresh(&refresh)?;
    let new_refresh = rotated.refresh.clone().expect("rotation is on by default");
    assert_ne!(new_refresh, refresh, "the refresh token rotated");
    assert_eq!(rotated.session_id, pair.session_id, "same session");
    engine.validate(&rotated.access)?;
    println!("refresh   → new access and refresh tokens, same session");

    engine.revoke(&new_refresh)?;
    println!("logout    → session revoked");

    let after = engine.validate(&rotated.access);
    assert_eq!(after, Err(Error::Revoked), "logout is immediate");
    println!(
        "validate  → {} ({})",
        after.as_ref().unwrap_err().name(),
        after.as_ref().unwrap_err()
    );
    Ok(())
}

/// The last characters of a token (its signature), enough to tell tokens apart.
fn tail(token: &str) -> &str {
    &token[token.len().saturating_sub(16)..]
}
