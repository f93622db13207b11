//! The near cache on the Redis store: turning it on, and `touch` (every validate) answered
//! from the cache when it can be, else by the touch script, whose reply refills the cache.
//!
//! From the cache: a revoked or absolutely expired session is refused (both are final); a
//! binding mismatch that does not revoke is refused; a session alive by its cached idle
//! deadline is accepted, and a slide it is due (at most one write per session per second,
//! as without the cache) is written behind the answer. The cached idle deadline only ever
//! lags the true one (another process's slide is not announced), so "idle" by the cache is
//! asked of Redis.

use super::codec::{binding_args, code_error, corrupt, digest, CLIENT_MISMATCH, OK};
use super::invalidation::{Slide, Tracking};
use super::near_cache::Cached;
use super::{RedisStore, Retry};
use crate::error::{Error, Result};
use crate::session::{self, BindingCheck, ClientBinding, Id, Session};

/// What a cached session tells a validate.
#[derive(Debug, PartialEq)]
enum Answer {
    /// The answer, with nothing to write.
    Final(Result<()>),
    /// Alive, and due to slide to this idle deadline.
    SlideDue(i64),
    /// Only Redis can tell.
    AskRedis,
}

fn answer(
    c: &Cached,
    now: i64,
    idle_timeout: i64,
    slide: bool,
    presented: Option<&BindingCheck>,
) -> Answer {
    if let Some(check) = presented {
        if let Err(m) = session::check_binding(&c.binding, check) {
            // A mismatch that revokes must reach Redis.
            return if m.revokes(check) {
                Answer::AskRedis
            } else {
                Answer::Final(Err(m.error()))
            };
        }
    }
    match session::check_alive(c.revoked, c.idle_deadline, c.absolute_deadline, now) {
        Err(Error::SessionIdle) => Answer::AskRedis,
        Err(e) => Answer::Final(Err(e)),
        Ok(()) => {
            let moved = session::slide(now, idle_timeout, c.absolute_deadline);
            if slide && session::touch_needed(c.idle_deadline, moved) {
                Answer::SlideDue(moved)
            } else {
                Answer::Final(Ok(()))
            }
        }
    }
}

/// The touch script's reply for a session that exists, as the cache keeps it.
pub(super) fn cached_from(reply: &[String]) -> Result<Cached> {
    let int = |i: usize| -> Result<i64> {
        reply
            .get(i)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("touch reply"))
    };
    let digest = |i: usize, name: &str| digest(reply.get(i).map(String::as_str), name);
    Ok(Cached {
        revoked: reply.get(1).map(String::as_str) == Some("1"),
        idle_deadline: int(2)?,
        absolute_deadline: int(3)?,
        binding: ClientBinding {
            client: digest(4, "b")?,
            jkt: digest(5, "k")?,
        },
    })
}

impl RedisStore {
    /// This store with a near cache of up to `capacity` sessions: validates are answered
    /// from this process's memory, and Redis tells every process at once when a cached
    /// session changes. Without news from Redis for long (a link that broke or fell behind),
    /// the cache is emptied and every validate goes to Redis until the link is back.
    pub fn near_cache(mut self, capacity: usize) -> Result<RedisStore> {
        if capacity == 0 {
            return Err(Error::Config(
                "near_cache_size must be greater than zero".into(),
            ));
        }
        self.near = Some(Tracking::new(
            self.link.clone(),
            &self.prefix,
            self.scripts.touch.clone(),
            capacity,
        )?);
        Ok(self)
    }

    /// `s` as this process's validates left it: with the idle deadline of a slide queued
    /// here and not written yet, so that what this process reads of a session reflects
    /// its own validates (a slide that then fails leaves the cache, and the deadline read
    /// after it is Redis's again).
    pub(super) fn with_queued_slide(&self, mut s: Session) -> Session {
        if let Some(queued) = self.near.as_ref().and_then(|n| n.queued_slide(s.sid)) {
            s.idle_deadline = s.idle_deadline.max(queued);
        }
        s
    }

    /// Whether validates may be answered from the near cache now: it is on, and its link
    /// to Redis is up and keeping up.
    pub fn near_cache_serving(&self) -> bool {
        self.near.as_ref().is_some_and(|n| n.is_serving())
    }

    pub(super) fn touch_session(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        if let Some(near) = &self.near {
            let answered =
                near.get(sid)
                    .and_then(|c| match answer(&c, now, idle_timeout, slide, presented) {
                        Answer::Final(answer) => Some(answer),
                        Answer::SlideDue(moved) => {
                            let slide = Slide {
                                sid,
                                now,
                                idle_timeout,
                                queued: std::time::Instant::now(),
                            };
                            near.slide_behind(slide, moved).then_some(Ok(()))
                        }
                        Answer::AskRedis => None,
                    });
            near.count(answered.is_some());
            if let Some(answer) = answered {
                return answer;
            }
        }
        let ticket = self.near.as_ref().and_then(|near| near.ticket(sid));
        let key = self.session_key(sid);
        let idle_key = self.idle_key(sid);
        let mut call = self.scripts.touch.prepare_invoke();
        call.key(&key)
            .key(&idle_key)
            .arg(now)
            .arg(idle_timeout)
            .arg(if slide { "1" } else { "0" })
            .arg(if presented.is_some() { "1" } else { "0" })
            .arg(&binding_args(presented.unwrap_or(&BindingCheck::default()))[..]);
        // A slide is idempotent (the deadline only moves forward to the same value), and so
        // is a revocation for a client mismatch (which waits for the replicas).
        let (reply, code, acked) = self.run(Retry::Safe, |c| {
            let reply: Vec<String> = call.invoke(c)?;
            let code: i64 = reply.first().and_then(|c| c.parse().ok()).unwrap_or(-1);
            // A revocation for a client mismatch waits for the replicas.
            let acked = if code == CLIENT_MISMATCH {
                self.wait_replicas(c)?
            } else {
                u64::MAX
            };
            Ok((reply, code, acked))
        })?;
        if code < 0 {
            return Err(corrupt("touch reply"));
        }
        self.check_replicated(acked)?;
        if let Some(near) = &self.near {
            if reply.len() > 1 {
                let state = cached_from(&reply)?;
                if state.revoked {
                    near.invalidate(sid);
                } else if let Some(ticket) = ticket {
                    near.fill(sid, ticket, state);
                }
            }
        }
        match code {
            OK => Ok(()),
            code => Err(code_error(code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ClientCheck;

    fn live() -> Cached {
        Cached {
            revoked: false,
            idle_deadline: 100,
            absolute_deadline: 1_000,
            binding: ClientBinding::default(),
        }
    }

    #[test]
    fn the_cache_answers_only_what_redis_would_answer_alike() {
        let c = live();
        let ok = Answer::Final(Ok(()));
        assert_eq!(answer(&c, 50, 50, true, None), ok, "no slide due");
        assert_eq!(
            answer(&c, 51, 50, true, None),
            Answer::SlideDue(101),
            "a slide to write"
        );
        assert_eq!(answer(&c, 51, 50, false, None), ok, "peek");
        assert_eq!(
            answer(&c, 100, 50, false, None),
            Answer::AskRedis,
            "idle by a lagging deadline"
        );
        let revoked = Cached { revoked: true, ..c };
        assert_eq!(
            answer(&revoked, 50, 50, true, None),
            Answer::Final(Err(Error::Revoked))
        );
        assert_eq!(
            answer(&c, 1_000, 50, true, None),
            Answer::Final(Err(Error::SessionExpired))
        );
    }

    #[test]
    fn a_mismatch_that_revokes_goes_to_redis() {
        let c = Cached {
            binding: ClientBinding {
                client: Some([1; 32]),
                jkt: None,
            },
            ..live()
        };
        let mut check = BindingCheck {
            presented: ClientBinding {
                client: Some([2; 32]),
                jkt: None,
            },
            client_check: ClientCheck::Require,
        };
        assert_eq!(
            answer(&c, 50, 50, false, Some(&check)),
            Answer::Final(Err(Error::ClientMismatch))
        );
        check.client_check = ClientCheck::RequireOrRevoke;
        assert_eq!(answer(&c, 50, 50, false, Some(&check)), Answer::AskRedis);
    }
}
