//! Opening the store: from a URL, or from the config with its TLS files and `WAIT`.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::link::{Link, TlsFiles};
use super::wait::Wait;
use super::{Pool, RedisStore, Scripts};
use crate::config::Config;
use crate::error::{Error, Result};

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host:port/db`,
    /// `rediss://...` for TLS, `redis+unix:///path?db=N`,
    /// `redis+sentinel://host:port,host:port/master-set/db` or
    /// `redis+cluster://host:port,host:port`), keys under `prefix`, each call bounded by
    /// `timeout`. Connects lazily: an engine can start while Redis is down, and fails closed
    /// until it is up. [`RedisStore::from_config`] takes the TLS files and `WAIT` too.
    pub fn open(url: &str, prefix: &str, timeout: Duration) -> Result<RedisStore> {
        Self::build(url, prefix, timeout, &TlsFiles::default(), None)
    }

    /// The store `config` describes: `store`, `store_prefix`, `store_timeout_ms`, the TLS
    /// files (`store_tls_ca`, `store_tls_cert`, `store_tls_key`) and `store_wait_replicas`
    /// with `store_wait_timeout_ms`, and the near cache (`near_cache`, `near_cache_size`).
    pub fn from_config(config: &Config) -> Result<RedisStore> {
        let tls = TlsFiles {
            ca: config.store_tls_ca.clone(),
            cert: config.store_tls_cert.clone(),
            key: config.store_tls_key.clone(),
        };
        let wait = (config.store_wait_replicas > 0).then_some(Wait {
            replicas: config.store_wait_replicas,
            timeout_ms: config.store_wait_timeout_ms,
        });
        let store = Self::build(
            &config.store,
            &config.store_prefix,
            Duration::from_millis(config.store_timeout_ms),
            &tls,
            wait,
        )?;
        if config.near_cache {
            return store.near_cache(config.near_cache_size);
        }
        Ok(store)
    }

    fn build(
        url: &str,
        prefix: &str,
        timeout: Duration,
        tls: &TlsFiles,
        wait: Option<Wait>,
    ) -> Result<RedisStore> {
        if timeout.is_zero() {
            return Err(Error::Config(
                "store_timeout_ms must be greater than zero".into(),
            ));
        }
        if prefix.contains(['{', '}']) {
            // A brace would become part of every key's hash tag, parting a user's keys.
            return Err(Error::Config(
                "store_prefix must not contain '{' or '}'".into(),
            ));
        }
        Ok(RedisStore {
            link: Arc::new(Link::open(url, tls, timeout)?),
            prefix: prefix.to_owned(),
            timeout,
            wait,
            pool: Mutex::new(Pool {
                pid: std::process::id(),
                idle: Vec::new(),
            }),
            scripts: Scripts::new(),
            near: None,
        })
    }
}
