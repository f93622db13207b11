//! HMAC resumed from precomputed blocks. Every token keyfob mints starts with the same
//! header and the same first claim, so the HMAC of those bytes is run once, when the engine
//! is built, and each sign or verify of such a token continues from the saved state: one
//! SHA-2 block less per token.
//!
//! ring cannot resume an HMAC from a state without copying its whole context (two block
//! buffers) and finishing through dynamic dispatch, which costs more than the block saved.
//! So the saved states are plain SHA-2 chaining values, advanced with `sha2`'s compression
//! function (SHA-NI where the CPU has it), and HMAC (RFC 2104) is finished around it here.
//! Tests hold every output to ring's `hmac::sign`; tags are compared in constant time.

use std::fmt;

use sha2::digest::generic_array::GenericArray;
use sha2::Digest;

use super::Algorithm;

/// SHA-256's initial chaining value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
/// SHA-384's initial chaining value (FIPS 180-4, 5.3.4).
const SHA384_IV: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
/// SHA-512's initial chaining value (FIPS 180-4, 5.3.5).
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// The largest block (SHA-512's); the largest final padding is two of them.
const MAX_BLOCK: usize = 128;

/// One SHA-2 compression function: SHA-256's (32-bit words) or SHA-512's (64-bit, also
/// SHA-384's).
trait Compress {
    type State: Copy;
    /// Block size in bytes.
    const BLOCK: usize;
    /// Bytes of the message-length field that ends the padding.
    const LENGTH_FIELD: usize;
    /// Advance `state` over `blocks` (a whole number of blocks).
    fn compress(state: &mut Self::State, blocks: &[u8]);
    /// The first `out.len()` bytes of `state` as a big-endian digest.
    fn digest(state: &Self::State, out: &mut [u8]);
}

struct Sha256Blocks;
impl Compress for Sha256Blocks {
    type State = [u32; 8];
    const BLOCK: usize = 64;
    const LENGTH_FIELD: usize = 8;
    fn compress(state: &mut [u32; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(Self::BLOCK) {
            sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
        }
    }
    fn digest(state: &[u32; 8], out: &mut [u8]) {
        // Whole words (every tag length is): fixed-size stores, no copy loop.
        debug_assert_eq!(out.len() % 4, 0);
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
}

struct Sha512Blocks;
impl Compress for Sha512Blocks {
    type State = [u64; 8];
    const BLOCK: usize = 128;
    const LENGTH_FIELD: usize = 16;
    fn compress(state: &mut [u64; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(Self::BLOCK) {
            sha2::compress512(state, std::slice::from_ref(GenericArray::from_slice(block)));
        }
    }
    fn digest(state: &[u64; 8], out: &mut [u8]) {
        debug_assert_eq!(out.len() % 8, 0);
        for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// Pad the message's last `len` bytes, already at the start of `last` (zero after them, as
/// the padding needs), for a message of `total` bytes, and compress them.
fn finish<C: Compress>(
    state: &mut C::State,
    last: &mut [u8; 2 * MAX_BLOCK],
    len: usize,
    total: usize,
) {
    last[len] = 0x80;
    let n = if len + 1 + C::LENGTH_FIELD <= C::BLOCK {
        C::BLOCK
    } else {
        2 * C::BLOCK
    };
    let bits = (total as u128 * 8).to_be_bytes();
    last[n - C::LENGTH_FIELD..n].copy_from_slice(&bits[16 - C::LENGTH_FIELD..]);
    C::compress(state, &last[..n]);
}

/// HMAC's two keyed states: the inner one also past the precomputed message start.
struct Resumed<C: Compress> {
    inner: C::State,
    outer: C::State,
    /// Bytes the inner state has absorbed: the key block and the message start.
    absorbed: usize,
    /// Tag length in bytes.
    tag_len: usize,
}

impl<C: Compress> Resumed<C> {
    /// The states of `key`, at most one block (longer keys are hashed first, as HMAC says).
    fn new(iv: C::State, key: &[u8], tag_len: usize) -> Resumed<C> {
        debug_assert!(key.len() <= C::BLOCK, "a longer key must be hashed first");
        let (mut ipad, mut opad) = ([0x36u8; MAX_BLOCK], [0x5cu8; MAX_BLOCK]);
        for (i, k) in key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let (mut inner, mut outer) = (iv, iv);
        C::compress(&mut inner, &ipad[..C::BLOCK]);
        C::compress(&mut outer, &opad[..C::BLOCK]);
        Resumed {
            inner,
            outer,
            absorbed: C::BLOCK,
            tag_len,
        }
    }

    /// These states further along by `start`, a whole number of blocks.
    fn absorb(&self, start: &[u8]) -> Resumed<C> {
        let mut inner = self.inner;
        C::compress(&mut inner, start);
        Resumed {
            inner,
            outer: self.outer,
            absorbed: self.absorbed + start.len(),
            tag_len: self.tag_len,
        }
    }

    /// The tag of the message start followed by `rest`, into `out` (at least `tag_len`);
    /// returns `tag_len`.
    fn sign_into(&self, rest: &[u8], out: &mut [u8]) -> usize {
        let mut inner = self.inner;
        let whole = rest.len() / C::BLOCK * C::BLOCK;
        C::compress(&mut inner, &rest[..whole]);
        let tail = &rest[whole..];
        let mut last = [0u8; 2 * MAX_BLOCK];
        last[..tail.len()].copy_from_slice(tail);
        finish::<C>(
            &mut inner,
            &mut last,
            tail.len(),
            self.absorbed + rest.len(),
        );
        // The outer message: the opad block (absorbed), then the inner digest.
        let mut last = [0u8; 2 * MAX_BLOCK];
        C::digest(&inner, &mut last[..self.tag_len]);
        let mut outer = self.outer;
        finish::<C>(&mut outer, &mut last, self.tag_len, C::BLOCK + self.tag_len);
        C::digest(&outer, &mut out[..self.tag_len]);
        self.tag_len
    }
}

enum State {
    Sha256(Resumed<Sha256Blocks>),
    Sha512(Resumed<Sha512Blocks>),
}

impl State {
    fn block(&self) -> usize {
        match self {
            State::Sha256(_) => Sha256Blocks::BLOCK,
            State::Sha512(_) => Sha512Blocks::BLOCK,
        }
    }
}

/// An HMAC key as its two keyed states, ready to absorb message starts. `Debug` shows nothing.
pub(super) struct HmacKey(State);

impl HmacKey {
    /// `None` for a signature algorithm.
    pub(super) fn new(algorithm: Algorithm, secret: &[u8]) -> Option<HmacKey> {
        let block = match algorithm {
            Algorithm::HS256 => Sha256Blocks::BLOCK,
            Algorithm::HS384 | Algorithm::HS512 => Sha512Blocks::BLOCK,
            _ => return None,
        };
        // A key longer than a block is replaced by its hash (RFC 2104, section 2).
        let hashed;
        let key = if secret.len() <= block {
            secret
        } else {
            hashed = match algorithm {
                Algorithm::HS256 => sha2::Sha256::digest(secret).to_vec(),
                Algorithm::HS384 => sha2::Sha384::digest(secret).to_vec(),
                _ => sha2::Sha512::digest(secret).to_vec(),
            };
            &hashed
        };
        Some(HmacKey(match algorithm {
            Algorithm::HS256 => State::Sha256(Resumed::new(SHA256_IV, key, 32)),
            Algorithm::HS384 => State::Sha512(Resumed::new(SHA384_IV, key, 48)),
            _ => State::Sha512(Resumed::new(SHA512_IV, key, 64)),
        }))
    }

    /// The state after the whole blocks of `message_start`; `None` if it is under a block.
    pub(super) fn prefix(&self, message_start: &[u8]) -> Option<HmacPrefix> {
        let block = self.0.block();
        let start = &message_start[..message_start.len() / block * block];
        if start.is_empty() {
            return None;
        }
        let state = match &self.0 {
            State::Sha256(s) => State::Sha256(s.absorb(start)),
            State::Sha512(s) => State::Sha512(s.absorb(start)),
        };
        Some(HmacPrefix {
            start: start.into(),
            state,
        })
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey").finish_non_exhaustive()
    }
}

/// The signing key's HMAC state after a message start. Kept inside the key ring whose key
/// made it, so it is never resumed under another key. `Debug` shows no key material.
pub(super) struct HmacPrefix {
    start: Box<[u8]>,
    state: State,
}

impl HmacPrefix {
    /// The absorbed message start (public bytes).
    pub(super) fn start(&self) -> &[u8] {
        &self.start
    }

    /// Write the HMAC of `message` into `out` (at least the tag length; 64 bytes fits all)
    /// and return its length; `None`, with nothing computed, if `message` does not start
    /// with the absorbed blocks (public bytes: no secret is compared).
    #[inline]
    pub(super) fn sign_into(&self, message: &[u8], out: &mut [u8]) -> Option<usize> {
        let rest = message.strip_prefix(&*self.start)?;
        Some(match &self.state {
            State::Sha256(s) => s.sign_into(rest, out),
            State::Sha512(s) => s.sign_into(rest, out),
        })
    }

    /// Whether `sig` is the HMAC of `message`, compared in constant time; `None` if
    /// `message` does not start with the absorbed blocks.
    #[inline]
    pub(super) fn verify(&self, message: &[u8], sig: &[u8]) -> Option<bool> {
        let mut tag = [0u8; 64];
        let n = self.sign_into(message, &mut tag)?;
        Some(constant_time_eq::constant_time_eq(&tag[..n], sig))
    }
}

impl fmt::Debug for HmacPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The states are derived from the key: only the public start's length is shown.
        f.debug_struct("HmacPrefix")
            .field("start_len", &self.start.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ring::hmac;

    fn ring_alg(algorithm: Algorithm) -> hmac::Algorithm {
        match algorithm {
            Algorithm::HS256 => hmac::HMAC_SHA256,
            Algorithm::HS384 => hmac::HMAC_SHA384,
            _ => hmac::HMAC_SHA512,
        }
    }

    proptest! {
        /// For every key length (under, at and over a block) and every message length around
        /// the padding boundaries, resuming gives ring's tag, and only that tag verifies.
        #[test]
        fn resumed_hmac_is_rings(
            alg in prop::sample::select(vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]),
            key in prop::collection::vec(any::<u8>(), 0..300),
            message in prop::collection::vec(any::<u8>(), 0..600),
            start_blocks in 1usize..4,
            flip in any::<prop::sample::Index>(),
        ) {
            let block = if alg == Algorithm::HS256 { 64 } else { 128 };
            prop_assume!(message.len() >= start_blocks * block);
            let prefix = HmacKey::new(alg, &key)
                .unwrap()
                .prefix(&message[..(start_blocks * block + 3).min(message.len())])
                .unwrap();
            prop_assert_eq!(prefix.start().len(), start_blocks * block);
            let want = hmac::sign(&hmac::Key::new(ring_alg(alg), &key), &message);
            let mut got = [0u8; 65];
            let n = prefix.sign_into(&message, &mut got).unwrap();
            prop_assert_eq!(&got[..n], want.as_ref());
            prop_assert_eq!(prefix.verify(&message, want.as_ref()), Some(true));
            let mut wrong = got;
            wrong[flip.index(n)] ^= 1;
            for tag in [&wrong[..n], &got[..n - 1], &got[..n + 1], &got[..0]] {
                prop_assert_eq!(prefix.verify(&message, tag), Some(false));
            }
            // A message that does not start with the absorbed blocks is not signed from them.
            let mut other = message.clone();
            other[flip.index(start_blocks * block)] ^= 1;
            prop_assert_eq!(prefix.sign_into(&other, &mut got), None);
            prop_assert_eq!(prefix.verify(&other, want.as_ref()), None);
            prop_assert_eq!(prefix.verify(&message[..start_blocks * block - 1], &[]), None);
        }
    }

    /// Keys at every edge (empty, one byte, a block less one, a block, a block more one:
    /// hashed), starts of one to three blocks, and every message length up to three blocks
    /// past the start, so each padding case (the tail fits, the tail spills into a second
    /// block) is met.
    #[test]
    fn every_edge_matches_ring() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let block = if alg == Algorithm::HS256 { 64 } else { 128 };
            for key_len in [0, 1, block - 1, block, block + 1, 3 * block] {
                let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
                let ring_key = hmac::Key::new(ring_alg(alg), &key);
                let hmac_key = HmacKey::new(alg, &key).unwrap();
                for start_blocks in 1..=3 {
                    let start = start_blocks * block;
                    let message: Vec<u8> = (0..start + 3 * block).map(|i| (i * 7) as u8).collect();
                    let prefix = hmac_key.prefix(&message[..start]).unwrap();
                    for len in start..=message.len() {
                        let m = &message[..len];
                        let mut got = [0u8; 64];
                        let n = prefix.sign_into(m, &mut got).unwrap();
                        let want = hmac::sign(&ring_key, m);
                        assert_eq!(&got[..n], want.as_ref(), "{alg:?} key {key_len} {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn nothing_to_precompute() {
        let key = [7u8; 32];
        let hs256 = HmacKey::new(Algorithm::HS256, &key).unwrap();
        assert!(hs256.prefix(&[b'a'; 63]).is_none());
        let hs512 = HmacKey::new(Algorithm::HS512, &key).unwrap();
        assert!(hs512.prefix(&[b'a'; 127]).is_none());
        assert!(HmacKey::new(Algorithm::EdDSA, &key).is_none());
        let shown = format!("{:?} {:?}", hs256, hs256.prefix(&[0; 64]));
        assert!(shown.contains("start_len: 64"), "{shown}");
        assert!(
            !shown.contains("inner") && !shown.contains("outer"),
            "{shown}"
        );
    }
}
