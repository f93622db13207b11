//! Building an [`Engine`]: the config checked once, keys parsed once, the constant parts of
//! every token precomputed once.

use std::sync::Arc;

use super::events::{Event, EventHandler, EventSink};
use super::Engine;
use crate::claims::{ClaimNames, PayloadTemplate};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::dpop::Verifier;
use crate::error::Result;
use crate::jws::Jws;
use crate::keys::KeyRing;
use crate::metrics::Recorder;
use crate::store::{SessionStore, TimedStore};

/// Builds an [`Engine`] on a chosen clock or store; [`Engine::new`] is
/// `Engine::builder(config).build()`.
///
/// ```
/// use std::sync::Arc;
/// use keyfob::{Config, Engine, Error, ManualClock, MemoryStore};
///
/// let config = Config::with_secret("change-me-to-32-or-more-random-bytes!");
/// let clock = ManualClock::new(1_700_000_000);
/// let store = Arc::new(MemoryStore::new());
/// let engine = Engine::builder(config.clone())
///     .clock(clock.clone())
///     .store(store.clone())
///     .build()
///     .unwrap();
/// // A second engine on the same store sees the same sessions.
/// let twin = Engine::builder(config).clock(clock.clone()).store(store).build().unwrap();
///
/// let pair = engine.login("alice", None).unwrap();
/// assert!(twin.validate(&pair.access).is_ok());
/// clock.advance(3600); // past the default idle timeout
/// assert_eq!(engine.validate(&pair.access), Err(Error::Expired));
/// ```
#[must_use = "an EngineBuilder does nothing until `build` is called"]
pub struct EngineBuilder {
    config: Config,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn SessionStore>>,
    on_event: Option<EventHandler>,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("config", &self.config)
            .field("store", &self.store.as_ref().map(|_| "given"))
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    pub(super) fn new(config: Config) -> EngineBuilder {
        EngineBuilder {
            config,
            clock: Arc::new(SystemClock),
            store: None,
            on_event: None,
        }
    }

    /// Call `handler` with every [`Event`] (see [`Engine::set_event_handler`]): after the
    /// operation, with no lock held; a panic in it is caught and logged.
    pub fn on_event(mut self, handler: impl Fn(&Event) + Send + Sync + 'static) -> EngineBuilder {
        self.on_event = Some(Arc::new(handler));
        self
    }

    /// Tell time with `clock` instead of the wall clock (e.g. a [`crate::ManualClock`]).
    pub fn clock(mut self, clock: impl Clock) -> EngineBuilder {
        self.clock = Arc::new(clock);
        self
    }

    /// Keep sessions in `store` instead of the one `config.store` names; engines given the
    /// same store share their sessions.
    pub fn store(mut self, store: Arc<dyn SessionStore>) -> EngineBuilder {
        self.store = Some(store);
        self
    }

    /// The engine, or the first problem with the config (`Error::Config`, naming the field).
    pub fn build(self) -> Result<Engine> {
        let EngineBuilder {
            config,
            clock,
            store,
            on_event,
        } = self;
        config.check()?;
        let keys = KeyRing::from_config(&config)?;
        let store = match store {
            Some(s) => s,
            None => crate::store::from_config(&config)?,
        };
        let secs = |v: u64| v as i64; // bounded by Config::check
        let dpop = Verifier::new(
            config.dpop_iat_window_s,
            config.dpop_replay_cache_size,
            config.max_token_bytes,
        );
        let names = ClaimNames::new(
            config.user_id_claim,
            config.token_type_claim,
            config.jti_claim,
        );
        let template =
            PayloadTemplate::new(&names, config.issuer.as_deref(), config.audience.as_deref());
        let metrics = Arc::new(Recorder::default());
        let store = TimedStore::new(store, metrics.clone());
        let events = EventSink::default();
        events.set(on_event);
        let mut jws = Jws::new(keys, config.max_token_bytes);
        jws.precompute(&template.starts());
        Ok(Engine {
            jws,
            template,
            names,
            store,
            clock,
            access_lifetime: secs(config.access_lifetime_s),
            refresh_lifetime: secs(config.refresh_lifetime_s),
            idle_timeout: secs(config.idle_timeout_s),
            sliding_lifetime: secs(config.sliding_lifetime_s),
            reuse_grace: secs(config.reuse_grace_s),
            leeway: secs(config.leeway_s),
            rotate_refresh: config.rotate_refresh,
            accept_sessionless: config.accept_sessionless,
            touch_on_validate: config.touch_on_validate,
            issuer: config.issuer,
            audience: config.audience,
            dpop,
            client_mismatch_revokes: config.client_mismatch_revokes,
            bind_validate: config.bind_validate,
            max_sessions_per_user: config.max_sessions_per_user.map(|cap| cap as usize), // bounded by Config::check
            session_claims_on_validate: config.session_claims_on_validate,
            metrics,
            events,
        })
    }
}
