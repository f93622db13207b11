//! The session record and its rules: liveness, the sliding idle deadline, the rotation
//! decision. Pure logic with no storage, so every store applies exactly the same rules.

use std::fmt;

use ring::rand::SystemRandom;

use crate::error::{Error, Result};

/// A 128-bit random identifier (session id or token id), written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub u128);

/// Byte → its two lowercase hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

impl Id {
    /// 128 bits from the operating system's random source. Bytes are drawn from the OS in
    /// blocks per thread (one system call per 256 ids instead of one per id); a forked child
    /// discards its parent's block, so two processes never hand out the same id.
    pub fn random(rng: &SystemRandom) -> Result<Id> {
        random_pool::take(rng)
            .map(|b| Id(u128::from_be_bytes(b)))
            .ok_or_else(|| Error::StoreUnavailable("the OS random source failed".into()))
    }

    /// Parse exactly 32 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Id> {
        Id::parse_ascii(s.as_bytes())
    }

    /// [`Id::parse`] over bytes.
    pub(crate) fn parse_ascii(b: &[u8]) -> Option<Id> {
        Id::from_words(b.try_into().ok()?, hex8)
    }

    /// [`Id::parse_ascii`] of 32 bytes the caller has already checked to be lowercase hex
    /// digits (any other bytes give some id, never a panic).
    #[inline]
    pub(crate) fn from_checked_hex(b: &[u8; 32]) -> Id {
        debug_assert!(Id::parse_ascii(b).is_some());
        Id::from_words(b, |w| Some(hex8_value(w))).unwrap_or(Id(0))
    }

    /// The id written as the 32 hex digits `b`, eight digits at a time through `word`, without
    /// a branch per digit (this runs on every validate); `None` if `word` refuses any.
    #[inline(always)]
    fn from_words(b: &[u8; 32], word: impl Fn(u64) -> Option<u32>) -> Option<Id> {
        let mut value = 0u128;
        for eight in b.chunks_exact(8) {
            let eight = u64::from_le_bytes(eight.try_into().ok()?);
            value = (value << 32) | u128::from(word(eight)?);
        }
        Some(Id(value))
    }

    /// The 32-character hex form as a `String` (what `to_string` gives, without formatting
    /// machinery).
    pub fn to_hex_string(self) -> String {
        // to_hex is ASCII by construction.
        String::from_utf8(self.to_hex().to_vec()).unwrap_or_default()
    }

    /// The 32-character hex form, without allocating.
    pub fn to_hex(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0.to_be_bytes()) {
            pair.copy_from_slice(&HEX_PAIRS[byte as usize]);
        }
        out
    }
}

/// Eight lowercase hex digits, read as a little-endian word (first digit in the low byte),
/// to their value; `None` if any byte is not one.
#[inline]
fn hex8(w: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // For bytes below 0x80, `byte >= a` is the high bit of `byte + (0x80 - a)`, and no
    // carry leaves the byte. (Bytes from 0x80 up are refused first, so their carries are moot.)
    let at_least = |a: u64| w.wrapping_add(ONES * (0x80 - a)) & HIGH;
    let digit = at_least(b'0'.into()) & !at_least(u64::from(b'9') + 1);
    let letter = at_least(b'a'.into()) & !at_least(u64::from(b'f') + 1);
    if w & HIGH != 0 || digit | letter != HIGH {
        return None;
    }
    Some(hex8_value(w))
}

/// [`hex8`] of a word already known to hold eight lowercase hex digits.
#[inline]
fn hex8_value(w: u64) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A digit's value is its low four bits; a letter's ('a' = 0x61 → 10), those plus 9:
    // bit 6 is set in letters only.
    let nibbles = (w & (ONES * 0x0f)) + ((w >> 6) & ONES) * 9;
    // Pair neighbours into bytes (first digit high), then gather the four even bytes.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let pairs = (pairs | (pairs >> 16)) & 0xffff_ffff;
    (pairs as u32).swap_bytes()
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // to_hex is ASCII by construction.
        f.write_str(std::str::from_utf8(&self.to_hex()).unwrap_or(""))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

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
    pub binding: Binding,
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
            binding: Binding::default(),
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
pub struct Binding {
    /// SHA-256 of the client binding value (OAuth client id, device id) given at login.
    pub client: Option<[u8; 32]>,
    /// RFC 7638 SHA-256 thumbprint of the DPoP key the session was created with (`cnf.jkt`).
    pub jkt: Option<[u8; 32]>,
}

impl Binding {
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

/// What a request presents against a session's [`Binding`]. The DPoP key is always checked:
/// a session bound to a key needs a verified proof from that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Presented {
    /// The presented client value's digest and the verified proof key's thumbprint.
    pub binding: Binding,
    /// How the client value is checked.
    pub client_check: ClientCheck,
}

impl Presented {
    /// Nothing presented, under `client_check`. A static: a plain validate builds nothing.
    pub(crate) fn nothing(client_check: ClientCheck) -> &'static Presented {
        const fn with(client_check: ClientCheck) -> Presented {
            Presented {
                binding: Binding {
                    client: None,
                    jkt: None,
                },
                client_check,
            }
        }
        static NOTHING: [Presented; 3] = [
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

/// Why a presentation does not fit a session's binding.
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
    pub fn revokes(self, presented: &Presented) -> bool {
        self == Mismatch::Client && presented.client_check == ClientCheck::RequireOrRevoke
    }
}

/// Check a presentation against the session's binding. An unbound session accepts anything.
pub fn check_binding(bound: &Binding, presented: &Presented) -> std::result::Result<(), Mismatch> {
    if let Some(client) = bound.client {
        if presented.client_check != ClientCheck::Skip && presented.binding.client != Some(client) {
            return Err(Mismatch::Client);
        }
    }
    if let Some(jkt) = bound.jkt {
        match presented.binding.jkt {
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
    fn hex_round_trip() {
        let id = Id(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let s = id.to_string();
        assert_eq!(s, "0123456789abcdef0011223344556677");
        assert_eq!(id.to_hex_string(), s);
        assert_eq!(Id::parse(&s), Some(id));
        assert_eq!(Id::parse("0123456789ABCDEF0011223344556677"), None);
        assert_eq!(Id::parse("abc"), None);
        // Every byte that is not a lowercase hex digit, in either half.
        for bad in (0u8..=255).filter(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            for at in 0..32 {
                let mut text = *b"0123456789abcdef0011223344556677";
                text[at] = bad;
                // Raw bytes, as `peek_sid` hands them over from an unverified payload.
                assert_eq!(Id::parse_ascii(&text), None, "{bad:#x} at {at}");
            }
        }
        assert_eq!(Id::parse(&"f".repeat(32)), Some(Id(u128::MAX)));
        // Every digit value at every position, through to_hex and back.
        let mut x = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834_u128;
        for _ in 0..10_000 {
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d).rotate_left(29) ^ 0x5bd1_e995;
            assert_eq!(Id::parse_ascii(&Id(x).to_hex()), Some(Id(x)));
            assert_eq!(Id::from_checked_hex(&Id(x).to_hex()), Id(x));
        }
    }

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
        let bound = Binding {
            client: Some([1; 32]),
            jkt: Some([2; 32]),
        };
        let both = |client_check| Presented {
            binding: bound,
            client_check,
        };
        assert_eq!(check_binding(&bound, &both(ClientCheck::Require)), Ok(()));
        assert_eq!(
            check_binding(&Binding::default(), &Presented::default()),
            Ok(())
        );
        let other_client = Presented {
            binding: Binding {
                client: Some([9; 32]),
                ..bound
            },
            client_check: ClientCheck::RequireOrRevoke,
        };
        assert_eq!(check_binding(&bound, &other_client), Err(Mismatch::Client));
        assert!(Mismatch::Client.revokes(&other_client));
        assert!(!Mismatch::Client.revokes(&both(ClientCheck::Require)));
        let skip = Presented {
            binding: Binding {
                client: None,
                ..bound
            },
            client_check: ClientCheck::Skip,
        };
        assert_eq!(check_binding(&bound, &skip), Ok(()));
        let no_proof = Presented {
            binding: Binding { jkt: None, ..bound },
            client_check: ClientCheck::Require,
        };
        assert_eq!(
            check_binding(&bound, &no_proof),
            Err(Mismatch::ProofRequired)
        );
        let other_key = Presented {
            binding: Binding {
                jkt: Some([3; 32]),
                ..bound
            },
            client_check: ClientCheck::Require,
        };
        assert_eq!(check_binding(&bound, &other_key), Err(Mismatch::KeyDiffers));
        assert!(!Mismatch::KeyDiffers.revokes(&other_key));
    }
}

/// Per-thread blocks of OS randomness for ids.
mod random_pool {
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU64, Ordering};

    use ring::rand::{SecureRandom, SystemRandom};

    /// 256 ids: the system call (and the kernel generating the bytes) costs about as much
    /// as a login, so it is spread thin. 4 KiB per thread.
    const BLOCK: usize = 4096;

    /// Bumped in every forked child, so blocks drawn before the fork are never used after it.
    static FORKS: AtomicU64 = AtomicU64::new(0);

    struct Pool {
        bytes: [u8; BLOCK],
        used: usize,
        forks: u64,
    }

    thread_local! {
        static POOL: RefCell<Pool> = const {
            RefCell::new(Pool { bytes: [0; BLOCK], used: BLOCK, forks: 0 })
        };
    }

    #[cfg(unix)]
    fn watch_forks() {
        extern "C" fn in_child() {
            FORKS.fetch_add(1, Ordering::SeqCst);
        }
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: registers a handler that only touches an atomic; it is async-signal-safe.
            unsafe {
                libc::pthread_atfork(None, None, Some(in_child));
            }
        });
    }

    #[cfg(not(unix))]
    fn watch_forks() {}

    pub(super) fn take(rng: &SystemRandom) -> Option<[u8; 16]> {
        watch_forks();
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            let forks = FORKS.load(Ordering::SeqCst);
            if pool.used + 16 > BLOCK || pool.forks != forks {
                rng.fill(&mut pool.bytes).ok()?;
                pool.used = 0;
                pool.forks = forks;
            }
            let mut id = [0u8; 16];
            let at = pool.used;
            id.copy_from_slice(&pool.bytes[at..at + 16]);
            // Handed-out bytes do not linger in memory.
            pool.bytes[at..at + 16].fill(0);
            pool.used += 16;
            Some(id)
        })
    }
}
