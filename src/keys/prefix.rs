//! HMAC-SHA256 resumed from precomputed blocks. Every token keyfob mints starts with the
//! same header and the same first claim, so the HMAC of the whole blocks those bytes fill
//! (one with the default header) is run once, when the engine is built, and each sign or
//! verify of such a token continues from the saved state: a SHA-256 block less per token.
//!
//! ring cannot resume an HMAC from a state without copying its whole context (two block
//! buffers) and finishing through dynamic dispatch, which costs more than the block saved.
//! So the saved states are plain SHA-256 chaining values, advanced with `sha2`'s compression
//! function, and HMAC (RFC 2104) is finished around it here. Only where the CPU computes
//! SHA-256 in hardware (SHA-NI): there `sha2` is as fast as ring's assembly; elsewhere ring's
//! assembly beats `sha2`'s portable code by more than the block saved, and ring signs alone.
//! HS384/HS512 are left to ring: with the default header our shared start does not fill
//! their 128-byte block, and only the default algorithm is worth a second HMAC path. Tests
//! (and the `resumed_hmac` fuzz target) hold every output to ring's `hmac::sign`; tags are
//! compared in constant time in their bytes (no branch on them, and `subtle` for the
//! verdict); the key-derived states are zeroised when dropped. Built with the `resumed-hmac`
//! feature (on by default); without it, ring makes every tag.

use std::fmt;

use sha2::digest::generic_array::GenericArray;
use sha2::Digest;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;
/// HMAC-SHA256's tag size in bytes.
pub(super) const TAG: usize = 32;
/// SHA-256's initial chaining value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Whether resuming with `sha2` beats ring here: only where this CPU runs SHA-256 in
/// hardware (SHA-NI). Tests can force it on for their thread, to run the resumed path on
/// any CPU.
pub(crate) fn resuming_pays() -> bool {
    #[cfg(test)]
    if FORCED.with(std::cell::Cell::get) {
        return true;
    }
    hardware_sha256()
}

/// Whether this CPU runs SHA-256 in hardware (what sha2 needs for its SHA-NI path).
pub(crate) fn hardware_sha256() -> bool {
    crate::arch::sha256_instructions()
}

#[cfg(test)]
thread_local! {
    static FORCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Make key rings built on this thread resume from precomputed blocks whatever the CPU.
#[cfg(test)]
pub(crate) fn force_resuming_on_this_thread() {
    FORCED.with(|f| f.set(true));
}

/// Advance `state` over `blocks` (a whole number of blocks).
/// In one call: each call loads, reorders and stores the state around its blocks.
fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % BLOCK, 0);
    let n = blocks.len() / BLOCK;
    // SAFETY: `GenericArray<u8, U64>` has the layout of `[u8; 64]` (generic-array's own
    // `from_slice` casts the same way), alignment 1, and `n` of them fit in `blocks`.
    let blocks: &[GenericArray<u8, sha2::digest::consts::U64>] =
        unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast(), n) };
    sha2::compress256(state, blocks);
}

/// `state` as a big-endian digest.
fn digest(state: &[u32; 8]) -> [u8; TAG] {
    let mut out = [0u8; TAG];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A message's bytes past what a state absorbed, as SHA-256 takes them: its whole blocks,
/// then its tail padded to one block (two when the length does not fit after the tail).
struct Blocks<'m> {
    whole: &'m [u8],
    tail: [u8; 2 * BLOCK],
    tail_len: usize,
}

impl<'m> Blocks<'m> {
    /// `rest`, the end of a message of `total` bytes.
    #[inline]
    fn padded(rest: &'m [u8], total: usize) -> Blocks<'m> {
        let (whole, end) = rest.split_at(rest.len() / BLOCK * BLOCK);
        let mut tail = [0u8; 2 * BLOCK];
        tail[..end.len()].copy_from_slice(end);
        tail[end.len()] = 0x80;
        // The 8-byte length in bits ends the padding: in this block if it fits, else the next.
        let tail_len = if end.len() + 1 + 8 <= BLOCK {
            BLOCK
        } else {
            2 * BLOCK
        };
        tail[tail_len - 8..tail_len].copy_from_slice(&(total as u64 * 8).to_be_bytes());
        Blocks {
            whole,
            tail,
            tail_len,
        }
    }

    fn count(&self) -> usize {
        (self.whole.len() + self.tail_len) / BLOCK
    }

    /// Block `i`, if there is one.
    #[inline]
    fn block(&self, i: usize) -> Option<&[u8]> {
        let whole = self.whole.len() / BLOCK;
        let (bytes, at) = if i < whole {
            (self.whole, i)
        } else {
            (&self.tail[..self.tail_len], i - whole)
        };
        bytes.get(at * BLOCK..(at + 1) * BLOCK)
    }

    /// Advance `state` over every block.
    #[inline]
    fn absorb(&self, state: &mut [u32; 8]) {
        if !self.whole.is_empty() {
            compress(state, self.whole);
        }
        compress(state, &self.tail[..self.tail_len]);
    }
}

/// The outer message's blocks past the opad block: the inner digest, padded.
#[inline]
fn outer_blocks(inner_digest: &[u8; TAG]) -> Blocks<'_> {
    Blocks::padded(inner_digest, BLOCK + TAG)
}

/// Advance `a` over `blocks_a` and `b` over `blocks_b`, a block of each in turn. Each
/// compression waits for the one before it in its own chain, not for the other chain's, so
/// the CPU runs the two chains side by side: two HMACs cost much less than twice one.
#[inline]
fn absorb_two(a: &mut [u32; 8], blocks_a: &Blocks<'_>, b: &mut [u32; 8], blocks_b: &Blocks<'_>) {
    for i in 0..blocks_a.count().max(blocks_b.count()) {
        if let Some(block) = blocks_a.block(i) {
            compress(a, block);
        }
        if let Some(block) = blocks_b.block(i) {
            compress(b, block);
        }
    }
}

/// An HMAC-SHA256 key as its two keyed states (inner: after the key xor ipad block; outer:
/// after the key xor opad block), ready to absorb message starts. `Debug` shows nothing.
pub(super) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    pub(super) fn new(secret: &[u8]) -> HmacKey {
        // A key longer than a block is replaced by its hash (RFC 2104, section 2).
        let mut hashed = [0u8; TAG];
        let key = if secret.len() <= BLOCK {
            secret
        } else {
            hashed.copy_from_slice(&sha2::Sha256::digest(secret));
            &hashed[..]
        };
        let (mut ipad, mut opad) = ([0x36u8; BLOCK], [0x5cu8; BLOCK]);
        for (i, k) in key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut keyed = HmacKey {
            inner: IV,
            outer: IV,
        };
        compress(&mut keyed.inner, &ipad);
        compress(&mut keyed.outer, &opad);
        // The padded keys are the key itself, give or take a constant.
        ipad.zeroize();
        opad.zeroize();
        hashed.zeroize();
        keyed
    }

    /// The state after the whole blocks of `message_start`; `None` if it is under a block.
    pub(super) fn prefix(&self, message_start: &[u8]) -> Option<HmacPrefix> {
        let start = &message_start[..message_start.len() / BLOCK * BLOCK];
        if start.is_empty() {
            return None;
        }
        let mut inner = self.inner;
        compress(&mut inner, start);
        Some(HmacPrefix {
            start: start.into(),
            inner,
            outer: self.outer,
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
    /// After the key block and `start`.
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacPrefix {
    /// The absorbed message start (public bytes).
    pub(super) fn start(&self) -> &[u8] {
        &self.start
    }

    /// The HMAC of `message`; `None`, with nothing computed, if `message` does not start
    /// with the absorbed blocks (public bytes: no secret is compared).
    #[inline]
    pub(super) fn sign(&self, message: &[u8]) -> Option<[u8; TAG]> {
        let blocks = self.inner_blocks(message)?;
        let mut inner = self.inner;
        blocks.absorb(&mut inner);
        // The outer message: the opad block (absorbed), then the inner digest.
        let digest_inner = digest(&inner);
        let mut outer = self.outer;
        outer_blocks(&digest_inner).absorb(&mut outer);
        Some(digest(&outer))
    }

    /// The HMACs of two messages at once, each from its own state: what [`HmacPrefix::sign`]
    /// gives for each, computed side by side (see `absorb_two`). `None`, with nothing
    /// computed, if a message does not start with its state's absorbed blocks.
    #[inline]
    pub(super) fn sign_two(
        (a, message_a): (&HmacPrefix, &[u8]),
        (b, message_b): (&HmacPrefix, &[u8]),
    ) -> Option<([u8; TAG], [u8; TAG])> {
        let (blocks_a, blocks_b) = (a.inner_blocks(message_a)?, b.inner_blocks(message_b)?);
        let (mut inner_a, mut inner_b) = (a.inner, b.inner);
        absorb_two(&mut inner_a, &blocks_a, &mut inner_b, &blocks_b);
        let (digest_a, digest_b) = (digest(&inner_a), digest(&inner_b));
        let (mut outer_a, mut outer_b) = (a.outer, b.outer);
        absorb_two(
            &mut outer_a,
            &outer_blocks(&digest_a),
            &mut outer_b,
            &outer_blocks(&digest_b),
        );
        Some((digest(&outer_a), digest(&outer_b)))
    }

    /// The blocks of `message` past the absorbed start, if it begins with that start.
    #[inline]
    fn inner_blocks<'m>(&self, message: &'m [u8]) -> Option<Blocks<'m>> {
        let rest = message.strip_prefix(&*self.start)?;
        // The inner message: the ipad block, then `message`.
        Some(Blocks::padded(rest, BLOCK + message.len()))
    }

    /// Whether `sig` is the HMAC of `message`, compared in constant time; `None` if
    /// `message` does not start with the absorbed blocks.
    #[inline]
    pub(super) fn verify(&self, message: &[u8], sig: &[u8]) -> Option<bool> {
        let tag = self.sign(message)?;
        Some(tags_equal(&tag, sig))
    }
}

/// Whether `sig` is `tag`, in constant time in their bytes: the words' differences are
/// gathered with `|` (no branch on their values), then compared with zero by subtle, whose
/// comparison is constant-time; a length other than the tag's is refused at once (lengths
/// are public).
fn tags_equal(tag: &[u8; TAG], sig: &[u8]) -> bool {
    let Ok(sig) = <&[u8; TAG]>::try_from(sig) else {
        return false;
    };
    let word = |bytes: &[u8; TAG], i: usize| {
        u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap_or_default())
    };
    let differ = (0..TAG / 8).fold(0u64, |acc, i| acc | (word(tag, i) ^ word(sig, i)));
    bool::from(differ.ct_eq(&0))
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl Drop for HmacPrefix {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// An HMAC-SHA256 signing key's resumable states: the key's own, and one per message start
/// precomputed with it. Empty where resuming does not pay, and for other algorithms.
#[derive(Default)]
pub(super) struct Resumed {
    key: Option<HmacKey>,
    prefixes: Vec<HmacPrefix>,
}

impl Resumed {
    /// States for `secret` when it is an HS256 key on a CPU where resuming pays.
    pub(super) fn for_key(hs256: bool, secret: &[u8]) -> Resumed {
        Resumed {
            key: (hs256 && resuming_pays()).then(|| HmacKey::new(secret)),
            prefixes: Vec::new(),
        }
    }

    /// Hash the whole blocks of `message_start` once, now (once per distinct start).
    pub(super) fn precompute(&mut self, message_start: &[u8]) {
        let Some(prefix) = self.key.as_ref().and_then(|k| k.prefix(message_start)) else {
            return;
        };
        if !self.prefixes.iter().any(|p| p.start() == prefix.start()) {
            self.prefixes.push(prefix);
        }
    }

    /// The tag of `message`, if a precomputed state covers it.
    #[inline]
    pub(super) fn sign(&self, message: &[u8]) -> Option<[u8; TAG]> {
        self.prefixes.iter().find_map(|p| p.sign(message))
    }

    /// The tags of two messages, computed side by side, if precomputed states cover both.
    #[inline]
    pub(super) fn sign_two(&self, a: &[u8], b: &[u8]) -> Option<([u8; TAG], [u8; TAG])> {
        let covering = |m: &[u8]| self.prefixes.iter().find(|p| m.starts_with(p.start()));
        HmacPrefix::sign_two((covering(a)?, a), (covering(b)?, b))
    }

    /// Whether `sig` is `message`'s tag, if a precomputed state covers `message`.
    #[inline]
    pub(super) fn verify(&self, message: &[u8], sig: &[u8]) -> Option<bool> {
        self.prefixes.iter().find_map(|p| p.verify(message, sig))
    }

    /// Whether a precomputed state covers `message`.
    #[cfg(test)]
    pub(super) fn covered(&self, message: &[u8]) -> bool {
        self.prefixes.iter().any(|p| message.starts_with(p.start()))
    }

    /// Distinct precomputed starts.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.prefixes.len()
    }
}

impl fmt::Debug for Resumed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resumed")
            .field("prefixes", &self.prefixes.len())
            .finish_non_exhaustive()
    }
}

/// What the fuzz targets drive (`fuzz/`), on any CPU: the resumed HMAC of `message` from
/// the state after the whole blocks of `start`, for `key`.
#[cfg(fuzzing)]
pub mod fuzzing {
    /// The tag, resumed; `None` if `start` is under a block or `message` does not begin
    /// with its whole blocks.
    pub fn resumed_sign(key: &[u8], start: &[u8], message: &[u8]) -> Option<[u8; 32]> {
        super::HmacKey::new(key).prefix(start)?.sign(message)
    }

    /// The tags of `message` and `other` (whose starts may differ), computed side by side
    /// from the states after the whole blocks of `start` and of `other_start`; `None` as for
    /// [`resumed_sign`], for either.
    pub fn resumed_sign_two(
        key: &[u8],
        (start, message): (&[u8], &[u8]),
        (other_start, other): (&[u8], &[u8]),
    ) -> Option<([u8; 32], [u8; 32])> {
        let key = super::HmacKey::new(key);
        let (a, b) = (key.prefix(start)?, key.prefix(other_start)?);
        super::HmacPrefix::sign_two((&a, message), (&b, other))
    }

    /// Whether `tag` verifies, resumed; `None` as for [`resumed_sign`].
    pub fn resumed_verify(key: &[u8], start: &[u8], message: &[u8], tag: &[u8]) -> Option<bool> {
        super::HmacKey::new(key).prefix(start)?.verify(message, tag)
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

    proptest! {
        /// For any key (under, at and over a block) and message, resuming gives ring's tag,
        /// and only that tag verifies.
        #[test]
        fn resumed_hmac_is_rings(
            key in prop::collection::vec(any::<u8>(), 0..200),
            message in prop::collection::vec(any::<u8>(), 64..400),
            start_blocks in 1usize..4,
            flip in any::<prop::sample::Index>(),
        ) {
            prop_assume!(message.len() >= start_blocks * BLOCK);
            let prefix = HmacKey::new(&key)
                .prefix(&message[..(start_blocks * BLOCK + 3).min(message.len())])
                .unwrap();
            prop_assert_eq!(prefix.start().len(), start_blocks * BLOCK);
            let want = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &message);
            let got = prefix.sign(&message).unwrap();
            prop_assert_eq!(&got[..], want.as_ref());
            prop_assert_eq!(prefix.verify(&message, want.as_ref()), Some(true));
            let mut wrong = got;
            wrong[flip.index(TAG)] ^= 1;
            let long = [&got[..], &[0]].concat();
            for tag in [&wrong[..], &got[..TAG - 1], &long[..], &got[..0]] {
                prop_assert_eq!(prefix.verify(&message, tag), Some(false));
            }
            // A message that does not start with the absorbed blocks is not signed from them.
            let mut other = message.clone();
            other[flip.index(start_blocks * BLOCK)] ^= 1;
            prop_assert_eq!(prefix.sign(&other), None);
            prop_assert_eq!(prefix.verify(&other, want.as_ref()), None);
            prop_assert_eq!(prefix.verify(&message[..start_blocks * BLOCK - 1], &[]), None);
        }
    }

    /// Every one of the tag's 256 bits counts: a signature differing from the tag in any
    /// one of them, or in all of them, is refused, and the tag itself is accepted.
    #[test]
    fn a_signature_differing_in_any_bit_is_refused() {
        let tag: [u8; TAG] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        assert!(tags_equal(&tag, &tag));
        for bit in 0..TAG * 8 {
            let mut sig = tag;
            sig[bit / 8] ^= 1 << (bit % 8);
            assert!(!tags_equal(&tag, &sig), "bit {bit}");
        }
        assert!(!tags_equal(&tag, &tag.map(|b| !b)));
    }

    /// Keys at every edge (empty, one byte, a block less one, a block, a block more one:
    /// hashed), starts of one to three blocks, and every message length up to three blocks
    /// past the start, so each padding case (the tail fits, the tail spills into a second
    /// block) is met.
    #[test]
    fn every_edge_matches_ring() {
        for key_len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK] {
            let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
            let ring_key = hmac::Key::new(hmac::HMAC_SHA256, &key);
            let hmac_key = HmacKey::new(&key);
            for start_blocks in 1..=3 {
                let start = start_blocks * BLOCK;
                let message: Vec<u8> = (0..start + 3 * BLOCK).map(|i| (i * 7) as u8).collect();
                let prefix = hmac_key.prefix(&message[..start]).unwrap();
                for len in start..=message.len() {
                    let m = &message[..len];
                    let want = hmac::sign(&ring_key, m);
                    assert_eq!(
                        &prefix.sign(m).unwrap()[..],
                        want.as_ref(),
                        "key {key_len} {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_to_precompute_and_nothing_shown() {
        let key = HmacKey::new(&[7u8; 32]);
        assert!(key.prefix(&[b'a'; 63]).is_none());
        let shown = format!("{:?} {:?}", key, key.prefix(&[0; 64]));
        assert!(shown.contains("start_len: 64"), "{shown}");
        assert!(
            !shown.contains("inner") && !shown.contains("outer"),
            "{shown}"
        );
    }

    proptest! {
        /// Two messages signed side by side get the tags each gets alone (and so ring's),
        /// whatever their lengths: the shorter chain stops first, the longer goes on.
        #[test]
        fn signing_two_at_once_gives_each_ones_own_tag(
            key in prop::collection::vec(any::<u8>(), 0..100),
            a in prop::collection::vec(any::<u8>(), 64..400),
            b in prop::collection::vec(any::<u8>(), 64..400),
            blocks_a in 1usize..4,
            blocks_b in 1usize..4,
        ) {
            prop_assume!(a.len() >= blocks_a * BLOCK && b.len() >= blocks_b * BLOCK);
            let key = HmacKey::new(&key);
            let pa = key.prefix(&a[..blocks_a * BLOCK]).expect("a whole block");
            let pb = key.prefix(&b[..blocks_b * BLOCK]).expect("a whole block");
            let two = HmacPrefix::sign_two((&pa, &a), (&pb, &b));
            prop_assert_eq!(two, Some((pa.sign(&a).unwrap(), pb.sign(&b).unwrap())));
            // Either message outside its state's start: nothing is signed.
            let mut other = b.clone();
            other[0] ^= 1;
            prop_assert_eq!(HmacPrefix::sign_two((&pa, &a), (&pb, &other)), None);
            prop_assert_eq!(HmacPrefix::sign_two((&pa, &other[..]), (&pb, &b)), None);
        }
    }

    #[test]
    fn padding_takes_a_second_block_only_when_the_length_does_not_fit() {
        for (tail, blocks) in [(0, 1), (55, 1), (56, 2), (63, 2)] {
            let rest = vec![0xab; BLOCK + tail];
            let padded = Blocks::padded(&rest, 1000);
            assert_eq!(padded.count(), 1 + blocks, "tail of {tail} bytes");
            assert!(padded.block(padded.count()).is_none());
            assert_eq!(padded.block(0), Some(&rest[..BLOCK]));
        }
    }
}
