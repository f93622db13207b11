//! The session record and its rules: liveness, the sliding idle deadline, the rotation
//! decision, the client-binding check. Pure logic with no storage, so every store applies
//! exactly the same rules; a program that only uses an [`Engine`](crate::Engine) never needs
//! this module, a [`SessionStore`](crate::SessionStore) implementation does.

use crate::error::{Error, Result};

pub use crate::id::Id;
pub use meta::{
    merge_claims, parse_ip, SessionDetails, SessionMeta, MAX_CLAIMS_BYTES, MAX_DATA_BYTES,
    MAX_TEXT_BYTES,
};

pub(crate) mod meta;

/// One login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session id.
    pub sid: Id,
    /// The user who logged in.
    pub user_id: String,
    /// Login time.
    pub created_at: i64,
    /// The session ends at this moment unless activity moves it.
    pub idle_deadline: i64,
    /// The session ends at this moment whatever happens.
    pub absolute_deadline: i64,
    /// The jti of the one refresh token that may rotate now.
    pub current_jti: Id,
    /// When the current refresh token was issued (its `iat`).
    pub current_iat: i64,
    /// The jti the current one replaced, if any; the grace window runs from `current_iat`.
    pub previous_jti: Option<Id>,
    /// Revoked by logout, revoke or reuse detection.
    pub revoked: bool,
    /// The client the session is bound to (digests only); empty for an unbound session.
    pub binding: ClientBinding,
}

impl Session {
    /// A fresh session at `now`.
    pub fn new(
        sid: Id,
        user_id: String,
        refresh_jti: Id,
        now: i64,
        idle_timeout: i64,
        lifetime: i64,
    ) -> Session {
        let absolute_deadline = now.saturating_add(lifetime);
        Session {
            sid,
            user_id,
            created_at: now,
            idle_deadline: slide(now, idle_timeout, absolute_deadline),
            absolute_deadline,
            current_jti: refresh_jti,
            current_iat: now,
            previous_jti: None,
            revoked: false,
            binding: ClientBinding::default(),
        }
    }

    /// Whether the session may be used at `now`.
    pub fn check_alive(&self, now: i64) -> Result<()> {
        check_alive(
            self.revoked,
            self.idle_deadline,
            self.absolute_deadline,
            now,
        )
    }

    /// Whether a store may forget this session at `now`: it can never be used again.
    pub fn is_dead(&self, now: i64) -> bool {
        is_dead(self.idle_deadline, self.absolute_deadline, now)
    }
}

/// Liveness, in the order a caller learns the most from: revoked, absolute, idle.
pub fn check_alive(
    revoked: bool,
    idle_deadline: i64,
    absolute_deadline: i64,
    now: i64,
) -> Result<()> {
    if revoked {
        Err(Error::Revoked)
    } else if now >= absolute_deadline {
        Err(Error::SessionExpired)
    } else if now >= idle_deadline {
        Err(Error::SessionIdle)
    } else {
        Ok(())
    }
}

/// A session past either deadline is over for good and can be dropped.
pub fn is_dead(idle_deadline: i64, absolute_deadline: i64, now: i64) -> bool {
    now >= idle_deadline || now >= absolute_deadline
}

/// The idle deadline after activity at `now`: never past the absolute deadline.
pub fn slide(now: i64, idle_timeout: i64, absolute_deadline: i64) -> i64 {
    now.saturating_add(idle_timeout).min(absolute_deadline)
}

/// Whether a touch must be written: the deadline moves by at least one second.
/// Touches within the same second coalesce into none.
pub fn touch_needed(current_idle_deadline: i64, new_idle_deadline: i64) -> bool {
    new_idle_deadline > current_idle_deadline
}

/// What a session is bound to. Only digests are kept: a store never holds the client id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClientBinding {
    /// SHA-256 of the client binding value (OAuth client id, device id) given at login.
    pub client: Option<[u8; 32]>,
    /// RFC 7638 SHA-256 thumbprint of the DPoP key the session was created with (`cnf.jkt`).
    pub jkt: Option<[u8; 32]>,
}

impl ClientBinding {
    /// Whether nothing binds the session (every session before client binding existed).
    pub fn is_unbound(&self) -> bool {
        self.client.is_none() && self.jkt.is_none()
    }
}

/// How a request's client binding value is checked against the session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientCheck {
    /// Not checked (validate, unless `bind_validate`).
    #[default]
    Skip,
    /// Must match; a mismatch is `client_mismatch`.
    Require,
    /// Must match; a mismatch is `client_mismatch` and revokes the session.
    RequireOrRevoke,
}

/// What a store checks against a session's [`ClientBinding`]: what the request showed (the
/// digest of its client binding value and the thumbprint of its verified DPoP key) and how
/// strictly the client value counts. The DPoP key is always checked: a session bound to a
/// key needs a verified proof from that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BindingCheck {
    /// The presented client value's digest and the verified proof key's thumbprint.
    pub presented: ClientBinding,
    /// How the client value is checked.
    pub client_check: ClientCheck,
}

impl BindingCheck {
    /// Nothing presented, under `client_check`. A static: a plain validate builds nothing.
    pub(crate) fn nothing(client_check: ClientCheck) -> &'static BindingCheck {
        const fn with(client_check: ClientCheck) -> BindingCheck {
            BindingCheck {
                presented: ClientBinding {
                    client: None,
                    jkt: None,
                },
                client_check,
            }
        }
        static NOTHING: [BindingCheck; 3] = [
            with(ClientCheck::Skip),
            with(ClientCheck::Require),
            with(ClientCheck::RequireOrRevoke),
        ];
        match client_check {
            ClientCheck::Skip => &NOTHING[0],
            ClientCheck::Require => &NOTHING[1],
            ClientCheck::RequireOrRevoke => &NOTHING[2],
        }
    }
}

/// Why what a request showed does not fit a session's binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Another (or no) client binding value.
    Client,
    /// The session is bound to a DPoP key and no proof came with the request.
    ProofRequired,
    /// The proof was made with another key than the session's.
    KeyDiffers,
}

impl Mismatch {
    /// The error every store reports for it.
    pub fn error(self) -> Error {
        match self {
            Mismatch::Client => Error::ClientMismatch,
            Mismatch::ProofRequired => {
                Error::DpopInvalid("the session is bound to a DPoP key; a proof is required".into())
            }
            Mismatch::KeyDiffers => {
                Error::DpopInvalid("the proof's key is not the key the session is bound to".into())
            }
        }
    }

    /// Whether this mismatch revokes the session.
    pub fn revokes(self, check: &BindingCheck) -> bool {
        self == Mismatch::Client && check.client_check == ClientCheck::RequireOrRevoke
    }
}

/// Check what a request showed against the session's binding. An unbound session accepts
/// anything.
pub fn check_binding(
    bound: &ClientBinding,
    check: &BindingCheck,
) -> std::result::Result<(), Mismatch> {
    if let Some(client) = bound.client {
        if check.client_check != ClientCheck::Skip && check.presented.client != Some(client) {
            return Err(Mismatch::Client);
        }
    }
    if let Some(jkt) = bound.jkt {
        match check.presented.jkt {
            None => return Err(Mismatch::ProofRequired),
            Some(k) if k != jkt => return Err(Mismatch::KeyDiffers),
            Some(_) => {}
        }
    }
    Ok(())
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// It is the current token: rotate to a new one.
    Rotate,
    /// It is the previous token, inside the grace window: hand out the current one again.
    Converge,
    /// Anything else: a stolen or replayed token. Revoke the session.
    Reuse,
}

/// The rotation decision for `presented` at `now`.
pub fn decide_rotation(
    current: Id,
    previous: Option<Id>,
    current_iat: i64,
    presented: Id,
    now: i64,
    grace: i64,
) -> Rotation {
    if presented == current {
        Rotation::Rotate
    } else if previous == Some(presented) && now < current_iat.saturating_add(grace) {
        Rotation::Converge
    } else {
        Rotation::Reuse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let s = Session::new(Id(1), "u".into(), Id(2), 100, 10, 50);
        assert_eq!((s.idle_deadline, s.absolute_deadline), (110, 150));
        assert_eq!(s.check_alive(109), Ok(()));
        assert_eq!(s.check_alive(110), Err(Error::SessionIdle));
        assert_eq!(slide(145, 10, 150), 150);
        assert_eq!(
            decide_rotation(Id(2), Some(Id(1)), 100, Id(2), 100, 0),
            Rotation::Rotate
        );
        assert_eq!(
            decide_rotation(Id(2), Some(Id(1)), 100, Id(1), 104, 5),
            Rotation::Converge
        );
        assert_eq!(
            decide_rotation(Id(2), Some(Id(1)), 100, Id(1), 105, 5),
            Rotation::Reuse
        );
        assert_eq!(
            decide_rotation(Id(2), None, 100, Id(9), 100, 5),
            Rotation::Reuse
        );
    }

    #[test]
    fn binding_rules() {
        let bound = ClientBinding {
            client: Some([1; 32]),
            jkt: Some([2; 32]),
        };
        let both = |client_check| BindingCheck {
            presented: bound,
            client_check,
        };
        assert_eq!(check_binding(&bound, &both(ClientCheck::Require)), Ok(()));
        assert_eq!(
            check_binding(&ClientBinding::default(), &BindingCheck::default()),
            Ok(())
        );
        let other_client = BindingCheck {
            presented: ClientBinding {
                client: Some([9; 32]),
                ..bound
            },
            client_check: ClientCheck::RequireOrRevoke,
        };
        assert_eq!(check_binding(&bound, &other_client), Err(Mismatch::Client));
        assert!(Mismatch::Client.revokes(&other_client));
        assert!(!Mismatch::Client.revokes(&both(ClientCheck::Require)));
        let skip = BindingCheck {
            presented: ClientBinding {
                client: None,
                ..bound
            },
            client_check: ClientCheck::Skip,
        };
        assert_eq!(check_binding(&bound, &skip), Ok(()));
        let no_proof = BindingCheck {
            presented: ClientBinding { jkt: None, ..bound },
            client_check: ClientCheck::Require,
        };
        assert_eq!(
            check_binding(&bound, &no_proof),
            Err(Mismatch::ProofRequired)
        );
        let other_key = BindingCheck {
            presented: ClientBinding {
                jkt: Some([3; 32]),
                ..bound
            },
            client_check: ClientCheck::Require,
        };
        assert_eq!(check_binding(&bound, &other_key), Err(Mismatch::KeyDiffers));
        assert!(!Mismatch::KeyDiffers.revokes(&other_key));
    }
}
