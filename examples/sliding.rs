//! The sliding idle timeout, shown on a ManualClock: activity keeps a session alive,
//! silence ends it, and the absolute lifetime caps it either way.
//!
//! Run with `cargo run --example sliding`. Every step checks its result and panics on a
//! wrong one, so a zero exit status means the rules behaved as documented.

use keyfob::{Clock, Config, Engine, Error, ManualClock};

fn main() -> Result<(), Error> {
    let mut config = Config::with_secret("example-secret-please-change-me-0123456789");
    config.idle_timeout_s = 60; // one minute of inactivity ends a session
    config.access_lifetime_s = 600; // long-lived access tokens, to let the session decide
    config.refresh_lifetime_s = 300; // no session lives longer than five minutes

    let clock = ManualClock::new(1_700_000_000);
    let engine = Engine::builder(config).clock(clock.clone()).build()?;
    let start = clock.now();

    let pair = engine.login("alice", None)?;
    println!("t=+0s    login (idle timeout 60 s, absolute lifetime 300 s)");

    // Activity every 50 s keeps sliding the idle deadline forward.
    for t in [50, 100, 150] {
        clock.set(start + t);
        engine.validate(&pair.access)?;
        println!(
            "{:<8} validate → ok, idle deadline now +{}s",
            format!("t=+{t}s"),
            t + 60
        );
    }

    // 60 s of silence after the last activity: the session is over.
    clock.set(start + 150 + 60);
    let idle = engine.validate(&pair.access);
    assert_eq!(idle, Err(Error::SessionIdle));
    println!(
        "t=+210s  validate → {} (60 s without activity)",
        idle.unwrap_err().name()
    );

    // A fresh session that stays busy still ends at its absolute deadline.
    clock.set(start + 1_000);
    let busy = engine.login("alice", None)?;
    let mut refresh = busy.refresh.expect("login returns a refresh token");
    for t in (1_050..1_300).step_by(50) {
        clock.set(start + t);
        refresh = engine
            .refresh(&refresh)?
            .refresh
            .expect("rotation is on by default");
    }
    println!("t=+1000s login again; refreshed every 50 s until +1250s");
    clock.set(start + 1_299);
    engine.validate(&busy.access)?;
    clock.set(start + 1_300);
    // Every token of the session carries an exp clipped to the absolute deadline.
    let capped = engine.validate(&busy.access);
    assert_eq!(capped, Err(Error::Expired));
    assert_eq!(engine.refresh(&refresh), Err(Error::Expired));
    println!("t=+1299s validate → ok");
    println!("t=+1300s validate and refresh → expired (absolute lifetime of 300 s reached)");
    Ok(())
}
