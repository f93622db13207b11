//! Where a session id says its session is. The store chooses ids: 96 random bits, and 32
//! that name a shard and a place in it, so a lookup is one read of that place and a compare
//! of the full id, with no hash index in between (at a million sessions, each extra random
//! read is a cache and TLB miss). Those 32 bits go through a permutation keyed with a
//! per-store secret from the OS, so ids do not show the order places were handed out in:
//! consecutive logins get scattered, unrelated-looking low bits.

use crate::error::Result;
use crate::session::Id;

pub(super) const SHARD_BITS: u32 = 6;
pub(super) const SHARDS: usize = 1 << SHARD_BITS;
/// The bits of an id that locate its place (the low ones). The other 96 stay random.
pub(super) const PLACE_BITS: u32 = 32;
/// Places a shard can name in an id (2^26: far beyond any memory).
pub(super) const MAX_PLACES: usize = 1 << (PLACE_BITS - SHARD_BITS);

const ROUNDS: usize = 4;

/// A secret permutation of the 32 locating bits: rounds of xor with a key, multiply by a
/// secret odd number (a bijection modulo 2^32 that carries low bits up) and xor with the
/// word's own high half (which carries them down). `Debug` shows nothing.
pub(super) struct Locator {
    keys: [u32; ROUNDS],
    multipliers: [u32; ROUNDS],
    /// Each multiplier's inverse modulo 2^32, to undo the rounds on every lookup.
    inverses: [u32; ROUNDS],
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator").finish_non_exhaustive()
    }
}

impl Locator {
    /// A locator with a fresh secret from the OS.
    pub(super) fn new() -> Result<Locator> {
        let (a, b) = (Id::random()?.0, Id::random()?.0);
        let words = |x: u128| std::array::from_fn::<u32, ROUNDS, _>(|i| (x >> (32 * i)) as u32);
        Ok(Locator::with_secret(words(a), words(b)))
    }

    pub(super) fn with_secret(keys: [u32; ROUNDS], multipliers: [u32; ROUNDS]) -> Locator {
        let multipliers = multipliers.map(|m| m | 1);
        Locator {
            keys,
            multipliers,
            inverses: multipliers.map(inverse),
        }
    }

    /// The shard and place an id names.
    #[inline]
    pub(super) fn locate(&self, id: Id) -> (usize, usize) {
        let word = self.decode(id.0 as u32);
        (word as usize % SHARDS, (word >> SHARD_BITS) as usize)
    }

    /// `random`'s high 96 bits, and low bits that name `place` in `shard`.
    pub(super) fn id(&self, random: Id, shard: usize, place: usize) -> Id {
        debug_assert!(shard < SHARDS && place < MAX_PLACES);
        let word = ((place as u32) << SHARD_BITS) | shard as u32;
        Id((random.0 & !u128::from(u32::MAX)) | u128::from(self.encode(word)))
    }

    fn encode(&self, mut x: u32) -> u32 {
        for round in 0..ROUNDS {
            x ^= self.keys[round];
            x = x.wrapping_mul(self.multipliers[round]);
            x ^= x >> 16;
        }
        x
    }

    #[inline]
    fn decode(&self, mut x: u32) -> u32 {
        for round in (0..ROUNDS).rev() {
            // `x ^= x >> 16` undoes itself on 32 bits.
            x ^= x >> 16;
            x = x.wrapping_mul(self.inverses[round]);
            x ^= self.keys[round];
        }
        x
    }
}

/// The inverse of odd `m` modulo 2^32 (Newton's iteration doubles the correct bits).
fn inverse(m: u32) -> u32 {
    let mut inv = m;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(m.wrapping_mul(inv)));
    }
    debug_assert_eq!(m.wrapping_mul(inv), 1);
    inv
}
