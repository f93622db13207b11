//! Compact JWS: the one parser of the format (segments, base64url, the protected header),
//! size caps, signing and the signature check. Our tokens and DPoP proofs are both read
//! here. The header of our own tokens is precomputed once; payloads decode into a stack
//! buffer.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::keys::KeyRing;

/// Payloads up to this size decode on the stack; larger ones (up to the token cap) on the heap.
/// Sized for typical claims (the buffer is left uninitialized, so size costs only stack).
const STACK_PAYLOAD: usize = 768;
/// Signatures up to this size (HMAC, Ed25519, ES256) decode on the stack.
const SMALL_SIG: usize = 96;
/// Largest signature any supported algorithm produces (RSA-8192).
const MAX_SIG: usize = 1024;

/// Decoded headers up to this size stay on the stack.
const STACK_HEADER: usize = 1024;

/// What a token is not when its dots are wrong.
const NOT_THREE_SEGMENTS: Error = Error::Malformed("expected three dot-separated segments");

/// The protected header fields keyfob reads. A token's `jku`, `x5u` and `jwk` are never
/// trusted or fetched; a DPoP proof's `jwk` is the key its own signature is checked with.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub alg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub kid: Option<Cow<'a, str>>,
    /// Read by DPoP (`dpop+jwt`); any value is accepted here.
    #[serde(default)]
    pub typ: Option<Value>,
    /// Read by DPoP (the proof's public key); any value is accepted here.
    #[serde(default)]
    pub jwk: Option<Value>,
    /// Present at all (even `null`) is a refusal: an absent `crit` is the only safe one.
    #[serde(default, deserialize_with = "present")]
    pub crit: Option<()>,
}

/// Any value, `null` included, marks the member as present.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<()>, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| Some(()))
}

/// A compact JWS cut at its first and last dots: `header.payload.signature`. A dot inside
/// the payload is left for the payload's base64url decoding to refuse, so the hot path looks
/// at the token once, from the end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segments<'t> {
    pub header: &'t [u8],
    pub payload: &'t [u8],
    pub signature: &'t [u8],
    /// `header.payload`: what the signature covers.
    pub signing_input: &'t [u8],
}

impl Segments<'_> {
    /// Whether the token has more than two dots (the payload holds one).
    pub(crate) fn has_extra_dots(&self) -> bool {
        self.payload.contains(&b'.')
    }
}

/// Cut `token` into its segments. `header_len`: where the header ends, when the caller has
/// already seen it (our own header); `token[header_len]` must then be a dot.
#[inline(always)]
pub(crate) fn split(token: &[u8], header_len: Option<usize>) -> Result<Segments<'_>> {
    let h_len = match header_len {
        Some(n) => n,
        None => token
            .iter()
            .position(|&b| b == b'.')
            .ok_or(NOT_THREE_SEGMENTS)?,
    };
    let rest = &token[h_len + 1..];
    // The last dot ends the payload.
    let p_len = memchr::memrchr(b'.', rest).ok_or(NOT_THREE_SEGMENTS)?;
    Ok(Segments {
        header: &token[..h_len],
        payload: &rest[..p_len],
        signature: &rest[p_len + 1..],
        signing_input: &token[..h_len + 1 + p_len],
    })
}

/// Decode and parse a protected header segment, then hand it to `f`: `malformed` when it is
/// not base64url or not a JSON object.
pub(crate) fn with_header<R>(segment: &[u8], f: impl FnOnce(Header<'_>) -> Result<R>) -> Result<R> {
    let (mut stack, mut heap) = ([MaybeUninit::uninit(); STACK_HEADER], Vec::new());
    let needed = URL_SAFE_NO_PAD.estimated_decoded_length(segment.len());
    let buf = scratch(&mut stack, &mut heap, needed);
    let json = decode_into(segment, buf).ok_or(Error::Malformed("header is not base64url"))?;
    // serde would also read a struct from a JSON array; a JOSE header is an object.
    if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::Malformed("header is not a JSON object"));
    }
    let header: Header<'_> = serde_json::from_slice(json)
        .map_err(|_| Error::Malformed("header is not a JSON object"))?;
    f(header)
}

/// A base64url segment (no padding, canonical trailing bits), decoded; `None` if it is not one.
pub(crate) fn decode_segment(segment: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode_to_vec(segment).ok()
}

/// Signs and verifies compact JWS with one key ring.
#[derive(Debug)]
pub(crate) struct Jws {
    keys: KeyRing,
    header_segment: String,
    max_token_bytes: usize,
}

impl Jws {
    pub(crate) fn new(keys: KeyRing, max_token_bytes: usize) -> Jws {
        let mut header = format!(r#"{{"alg":"{}","typ":"JWT""#, keys.algorithm().name());
        if let Some(kid) = keys.kid() {
            header.push_str(",\"kid\":");
            header.push_str(&serde_json::to_string(kid).unwrap_or_default());
        }
        header.push('}');
        Jws {
            header_segment: URL_SAFE_NO_PAD.encode_to_string(header.as_bytes()),
            keys,
            max_token_bytes,
        }
    }

    /// The key ring, for what it publishes (its JWK Set).
    pub(crate) fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Hash once, now, the blocks every token of ours starts with: our header and the
    /// start of each payload in `payload_starts` (JSON every payload of that kind begins
    /// with). Signing and verifying such a token then resume from there.
    pub(crate) fn precompute(&mut self, payload_starts: &[&[u8]]) {
        for start in payload_starts {
            // Only whole 3-byte groups encode to base64 that later bytes cannot change.
            let whole = start.len() / 3 * 3;
            let mut message = format!("{}.", self.header_segment);
            URL_SAFE_NO_PAD.encode_append(&start[..whole], &mut message);
            self.keys.precompute_hmac(message.as_bytes());
        }
    }

    /// Whether signing or verifying `message` resumes from a precomputed state.
    #[cfg(test)]
    pub(crate) fn covered(&self, message: &[u8]) -> bool {
        self.keys.covered(message)
    }

    /// Sign a payload (JSON bytes) into a compact token, written into one exact-size string.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<String> {
        let mut out = self.signing_input(payload)?;
        // Zeroing RSA's 1 KiB on every HMAC token would cost more than writing it.
        let mut sig_stack = [0u8; SMALL_SIG];
        let mut sig_heap = Vec::new();
        let sig = if self.keys.signature_len() <= SMALL_SIG {
            &mut sig_stack[..]
        } else {
            sig_heap.resize(MAX_SIG, 0);
            &mut sig_heap[..]
        };
        let n = self.keys.sign_into(out.as_bytes(), sig)?;
        append_signature(&mut out, &sig[..n]);
        Ok(out)
    }

    /// Sign two payloads into two tokens: what [`Jws::sign`] gives for each, with the two
    /// signatures computed together (see [`KeyRing::sign_two_into`]).
    pub(crate) fn sign_two(&self, payload_a: &[u8], payload_b: &[u8]) -> Result<(String, String)> {
        if self.keys.signature_len() > SMALL_SIG {
            return Ok((self.sign(payload_a)?, self.sign(payload_b)?));
        }
        let (mut a, mut b) = (
            self.signing_input(payload_a)?,
            self.signing_input(payload_b)?,
        );
        let (mut sig_a, mut sig_b) = ([0u8; SMALL_SIG], [0u8; SMALL_SIG]);
        let n = self
            .keys
            .sign_two_into((a.as_bytes(), &mut sig_a), (b.as_bytes(), &mut sig_b))?;
        append_signature(&mut a, &sig_a[..n]);
        append_signature(&mut b, &sig_b[..n]);
        Ok((a, b))
    }

    /// `header.payload` for `payload`, in a string with room for the signature; refused if
    /// the whole token would be over `max_token_bytes`.
    fn signing_input(&self, payload: &[u8]) -> Result<String> {
        let total = self.header_segment.len()
            + 1
            + URL_SAFE_NO_PAD.encoded_length(payload.len())
            + 1
            + URL_SAFE_NO_PAD.encoded_length(self.keys.signature_len());
        if total > self.max_token_bytes {
            return Err(Error::InvalidArgument(format!(
                "the token would be {total} bytes, over max_token_bytes ({})",
                self.max_token_bytes
            )));
        }
        let mut out = String::with_capacity(total);
        out.push_str(&self.header_segment);
        out.push('.');
        URL_SAFE_NO_PAD.encode_append(payload, &mut out);
        Ok(out)
    }

    /// Check size, structure, header and signature, then hand the decoded payload to `f`.
    ///
    /// Nothing of the payload is trusted before the signature holds. The one early reader is
    /// `early`: it gets the decoded, still unverified payload before the HMAC runs, so it can
    /// parse while nothing else waits and start loading the session's memory (a cache hint)
    /// while the HMAC computes. What it returns reaches `f` only once the signature holds,
    /// and must be exactly what `f` would derive from the verified payload itself.
    ///
    /// A token that fails here and is not UTF-8 is `malformed` ("not UTF-8"), as if it had
    /// been refused as text first (the check runs only once it has failed). One that reaches
    /// `f` is ASCII: every byte of it is a dot or base64url that decoded, so `f`'s answer
    /// needs no such check, and goes to the caller as `f` built it.
    // Inlined into each caller, so `f`'s claims are built where the engine returns them
    // instead of being copied out through two `Result`s.
    #[inline(always)]
    pub(crate) fn verify<E, R>(
        &self,
        token: &[u8],
        early: impl FnOnce(&[u8]) -> Option<E>,
        f: impl FnOnce(&[u8], Option<E>) -> Result<R>,
    ) -> Result<R> {
        // The decoding buffers live here, so the payload `f` reads can borrow from them.
        let (mut sig_stack, mut sig_heap) = ([MaybeUninit::uninit(); SMALL_SIG], Vec::new());
        let (mut stack, mut heap) = ([MaybeUninit::uninit(); STACK_PAYLOAD], Vec::new());
        let scratch_for_sig = (&mut sig_stack, &mut sig_heap);
        let scratch_for_payload = (&mut stack, &mut heap);
        match self.verified_payload(token, early, scratch_for_sig, scratch_for_payload) {
            Ok((payload, read)) => f(payload, read),
            Err(e) => Err(error_for(token, e)),
        }
    }

    /// [`Jws::verify`] up to `f`: the payload, decoded into the second scratch, once the
    /// signature (decoded into the first) holds, with what `early` read of it.
    #[inline(always)]
    fn verified_payload<'p, E>(
        &self,
        token: &[u8],
        early: impl FnOnce(&[u8]) -> Option<E>,
        (sig_stack, sig_heap): Scratch<'_, SMALL_SIG>,
        (stack, heap): Scratch<'p, STACK_PAYLOAD>,
    ) -> Result<(&'p [u8], Option<E>)> {
        if token.len() > self.max_token_bytes {
            return Err(Error::Malformed("token is larger than max_token_bytes"));
        }
        // Our own header is known byte for byte: skip scanning and parsing it.
        let own = self.header_segment.as_bytes();
        let own_header =
            token.len() > own.len() && token.starts_with(own) && token[own.len()] == b'.';
        let Segments {
            header: h,
            payload: p,
            signature: s,
            signing_input,
        } = split(token, own_header.then_some(own.len()))?;
        if h.is_empty() || p.is_empty() {
            return Err(Error::Malformed("empty segment"));
        }
        let kid_buf;
        // (A header segment equal to ours always takes the first branch above: it has no dot.)
        let kid: Option<&str> = if own_header {
            self.keys.kid()
        } else {
            // Before the signature's emptiness: an unsecured `alg: none` token (empty
            // signature) is an algorithm refusal, not a formatting slip.
            kid_buf = self.check_header(h)?;
            kid_buf.as_deref()
        };
        if s.is_empty() {
            return Err(Error::Malformed("empty segment"));
        }
        // HMAC, Ed25519 and ES256 signatures fit on the stack; RSA's go to the heap.
        let sig_len = URL_SAFE_NO_PAD.estimated_decoded_length(s.len());
        if sig_len > MAX_SIG {
            return Err(Error::Malformed("signature is not base64url"));
        }
        let sig = decode_into(s, scratch(sig_stack, sig_heap, sig_len))
            .ok_or(Error::Malformed("signature is not base64url"))?;
        let needed = URL_SAFE_NO_PAD.estimated_decoded_length(p.len());
        let buf = scratch(stack, heap, needed);
        // Decoded before the signature check only to feed `early`; a decoding error is
        // reported after the signature, as if the payload were decoded there.
        let payload = decode_into(p, buf);
        let read = payload.and_then(early);
        if let Err(e) = self.keys.verify(kid, signing_input, sig) {
            // Only on this cold path: tell a token with extra segments from a forged one.
            return Err(if p.contains(&b'.') {
                NOT_THREE_SEGMENTS
            } else {
                e
            });
        }
        Ok((
            payload.ok_or(Error::Malformed("payload is not base64url"))?,
            read,
        ))
    }

    /// Parse a foreign header: the algorithm must be ours, no `crit`, `kid` only a lookup key.
    fn check_header(&self, segment: &[u8]) -> Result<Option<String>> {
        with_header(segment, |header| {
            let alg = header.alg.ok_or(Error::Malformed("header has no alg"))?;
            if alg != self.keys.algorithm().name() {
                // Covers "none" and every algorithm-confusion attempt.
                return Err(Error::AlgorithmNotAllowed);
            }
            if header.crit.is_some() {
                return Err(Error::Malformed("crit header parameters are not supported"));
            }
            Ok(header.kid.map(Cow::into_owned))
        })
    }
}

/// Room to decode into: `N` bytes on the stack, and the heap for more (see [`scratch`]).
type Scratch<'a, const N: usize> = (&'a mut [MaybeUninit<u8>; N], &'a mut Vec<MaybeUninit<u8>>);

/// `error`, or `malformed` ("not UTF-8") for a token that is not UTF-8.
#[cold]
fn error_for(token: &[u8], error: Error) -> Error {
    if std::str::from_utf8(token).is_err() {
        Error::TOKEN_NOT_UTF8
    } else {
        error
    }
}

/// `needed` bytes to decode into: `stack` when they fit, else `heap`, grown to them. Left
/// uninitialized: zeroing would cost on every call, and decoding writes every byte it hands
/// back.
#[inline(always)]
fn scratch<'a, const N: usize>(
    stack: &'a mut [MaybeUninit<u8>; N],
    heap: &'a mut Vec<MaybeUninit<u8>>,
    needed: usize,
) -> &'a mut [MaybeUninit<u8>] {
    if needed <= N {
        stack
    } else {
        heap.resize(needed, MaybeUninit::uninit());
        heap
    }
}

/// Decode base64url (no padding, canonical trailing bits) into `out`; `None` if `segment` is
/// not base64url or would not fit.
fn decode_into<'o>(segment: &[u8], out: &'o mut [MaybeUninit<u8>]) -> Option<&'o [u8]> {
    if URL_SAFE_NO_PAD.estimated_decoded_length(segment.len()) > out.len() {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(segment, Out::from_uninit_slice(out))
        .ok()
        .map(|decoded| &*decoded)
}

/// End a signing input with `.signature`.
fn append_signature(token: &mut String, sig: &[u8]) {
    token.push('.');
    URL_SAFE_NO_PAD.encode_append(sig, token);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Two payloads signed together make the tokens each makes alone, resumed or not; a
    /// payload too big for `max_token_bytes` is refused either way.
    #[test]
    fn signing_two_payloads_makes_the_token_each_makes_alone() {
        crate::keys::force_resuming_on_this_thread();
        let cfg = Config::with_secret("two-payloads-secret-0123456789abcdef0123");
        let mut jws = Jws::new(KeyRing::from_config(&cfg).unwrap(), 600);
        let access = br#"{"token_type":"access","exp":1700000300,"iat":1700000000,"jti":"00112233445566778899aabbccddeeff","user_id":"42"}"#;
        let refresh = br#"{"token_type":"refresh","exp":1700043200,"iat":1700000000,"jti":"ffeeddccbbaa99887766554433221100","user_id":"42"}"#;
        let alone = |jws: &Jws| (jws.sign(refresh).unwrap(), jws.sign(access).unwrap());
        assert_eq!(jws.sign_two(refresh, access).unwrap(), alone(&jws));
        jws.precompute(&[
            br#"{"token_type":"access","exp":"#,
            br#"{"token_type":"refresh","exp":"#,
        ]);
        let (refresh_token, access_token) = jws.sign_two(refresh, access).unwrap();
        let input = &refresh_token.as_bytes()[..refresh_token.rfind('.').unwrap()];
        assert_eq!(jws.covered(input), cfg!(feature = "resumed-hmac"));
        assert_eq!((refresh_token, access_token), alone(&jws));
        let big = vec![b'x'; 600];
        for (a, b) in [(&big[..], &access[..]), (&access[..], &big[..])] {
            assert!(matches!(jws.sign_two(a, b), Err(Error::InvalidArgument(_))));
        }
    }
}
