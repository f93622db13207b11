//! The claims `dict` that `validate`, `validate_sliding` and `verify` return, built straight
//! from the payload: the same dict `json.loads(payload)` gives (keys in payload order, ints as
//! `int`, strings as `str`), without a JSON parser in between for the usual flat payload.
//!
//! The fast path reads a flat object whose keys and strings carry no escapes and whose
//! numbers are integers of at most 18 digits. Anything else (nested values, floats, escapes,
//! odd numbers, invalid JSON) goes through the general converter in `convert.rs`, so both
//! paths give the same dict.
//!
//! The claims this engine writes first (`token_type`, `exp`, `iat`, `jti`, `user_id`, `sid`,
//! under their configured names) come from a prebuilt template dict: copying it gives a dict
//! already sized for them (a fresh dict would grow once on the sixth key), and its keys are
//! the engine's cached strings, so no key object is made per call.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use keyfob::{Claims, TokenType};

use crate::convert::{claim_key, claims_dict};

/// How many leading claims the template holds.
const HEAD: usize = 6;

/// Longest integer read on the fast path (fits `i64` without overflow checks).
const MAX_DIGITS: usize = 18;

/// The head of the payload this engine writes, as names and as cached Python keys.
pub(crate) struct ClaimsDict {
    names: [Box<str>; HEAD],
    keys: [Py<PyString>; HEAD],
    /// "access", "refresh", "sliding": the token-type values, made once.
    token_types: [Py<PyString>; 3],
    /// `{name: None}` for the head, in order; copied per call.
    template: Py<PyDict>,
}

impl ClaimsDict {
    /// For an engine writing `token_type`, `jti` and `user_id` under these names.
    pub(crate) fn new(
        py: Python<'_>,
        token_type: &str,
        jti: &str,
        user_id: &str,
    ) -> PyResult<Self> {
        let names: [Box<str>; HEAD] =
            [token_type, "exp", "iat", jti, user_id, "sid"].map(Box::from);
        let keys = names.clone().map(|n| PyString::intern(py, &n).unbind());
        let template = PyDict::new(py);
        for key in &keys {
            template.set_item(key.bind(py), py.None())?;
        }
        let token_types = [TokenType::Access, TokenType::Refresh, TokenType::Sliding]
            .map(|t| PyString::intern(py, t.as_str()).unbind());
        Ok(ClaimsDict {
            names,
            keys,
            token_types,
            template: template.unbind(),
        })
    }

    /// The claims as a dict: from the typed values when the payload is exactly keyfob's
    /// minted layout (the core already read it), else from the payload.
    pub(crate) fn of<'py>(&self, py: Python<'py>, claims: &Claims) -> PyResult<Bound<'py, PyDict>> {
        if !claims.is_minted_layout() {
            return self.build(py, claims.to_json());
        }
        let (Some(iat), Some(sid)) = (claims.iat, claims.sid()) else {
            return self.build(py, claims.to_json());
        };
        let token_type = match claims.token_type {
            TokenType::Access => &self.token_types[0],
            TokenType::Refresh => &self.token_types[1],
            _ => &self.token_types[2],
        };
        let mut head: [Option<Bound<'py, PyAny>>; HEAD] = [
            Some(token_type.bind(py).clone().into_any()),
            Some(claims.exp.into_pyobject(py)?.into_any()),
            Some(iat.into_pyobject(py)?.into_any()),
            Some(PyString::new(py, claims.jti()).into_any()),
            Some(PyString::new(py, claims.user_id()).into_any()),
            Some(PyString::new(py, sid).into_any()),
        ];
        let dict = self.template.bind(py).copy()?;
        self.fill(py, &dict, &mut head)?;
        Ok(dict)
    }

    /// The payload (a JSON object) as a dict.
    pub(crate) fn build<'py>(
        &self,
        py: Python<'py>,
        payload: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        match self.flat(py, payload)? {
            Some(dict) => Ok(dict),
            None => claims_dict(py, payload),
        }
    }

    /// The fast path; `None` when the payload needs the general converter.
    fn flat<'py>(&self, py: Python<'py>, payload: &str) -> PyResult<Option<Bound<'py, PyDict>>> {
        let mut scan = Scan {
            text: payload,
            at: 0,
        };
        if !scan.eat(b'{') {
            return Ok(None);
        }
        // Values of the head claims, while the keys follow the template.
        let mut head: [Option<Bound<'py, PyAny>>; HEAD] = Default::default();
        let mut matched = 0;
        let mut dict: Option<Bound<'py, PyDict>> = None;
        if !scan.eat(b'}') {
            loop {
                if !scan.eat(b'"') {
                    return Ok(None);
                }
                let Some(key) = scan.string() else {
                    return Ok(None);
                };
                if !scan.eat(b':') {
                    return Ok(None);
                }
                let Some(value) = scan.value(py) else {
                    return Ok(None);
                };
                match &dict {
                    Some(d) => d.set_item(claim_key(py, key), value)?,
                    None if matched < HEAD && *self.names[matched] == *key => {
                        head[matched] = Some(value);
                        matched += 1;
                        if matched == HEAD {
                            let d = self.template.bind(py).copy()?;
                            self.fill(py, &d, &mut head)?;
                            dict = Some(d);
                        }
                    }
                    None => {
                        let d = PyDict::new(py);
                        self.fill(py, &d, &mut head)?;
                        d.set_item(claim_key(py, key), value)?;
                        dict = Some(d);
                    }
                }
                if scan.eat(b',') {
                    continue;
                }
                if scan.eat(b'}') {
                    break;
                }
                return Ok(None);
            }
        }
        scan.space();
        if scan.at != payload.len() {
            return Ok(None);
        }
        match dict {
            Some(d) => Ok(Some(d)),
            None => {
                let d = PyDict::new(py);
                self.fill(py, &d, &mut head)?;
                Ok(Some(d))
            }
        }
    }

    /// Set the head values collected so far, in order.
    fn fill<'py>(
        &self,
        py: Python<'py>,
        dict: &Bound<'py, PyDict>,
        head: &mut [Option<Bound<'py, PyAny>>; HEAD],
    ) -> PyResult<()> {
        for (key, value) in self.keys.iter().zip(head.iter_mut()) {
            let Some(value) = value.take() else { break };
            dict.set_item(key.bind(py), value)?;
        }
        Ok(())
    }
}

/// The index of the first `"`, `\` or control byte: where a string ends or stops being
/// plain. Eight bytes per step (SWAR): a byte is flagged by the usual zero-byte test on
/// `word ^ pattern`, and a control byte by `byte - 0x20` borrowing. Flags can only be wrong
/// above the first true one, so the lowest flag is exact.
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let found = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// A cursor over the payload.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skip JSON whitespace.
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skip whitespace, then `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The rest of a string after its opening quote; `None` on an escape or control byte.
    fn string(&mut self) -> Option<&'a str> {
        let bytes = &self.text.as_bytes()[self.at..];
        let len = string_end(bytes)?;
        if bytes[len] != b'"' {
            return None;
        }
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }

    /// A string, integer, `true`, `false` or `null`; `None` for anything else.
    fn value<'py>(&mut self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.space();
        match self.peek()? {
            b'"' => {
                self.at += 1;
                let s = self.string()?;
                Some(PyString::new(py, s).into_any())
            }
            b'-' | b'0'..=b'9' => {
                let Ok(int) = self.integer()?.into_pyobject(py);
                Some(int.into_any())
            }
            b't' => self
                .literal("true")
                .then(|| PyBool::new(py, true).to_owned().into_any()),
            b'f' => self
                .literal("false")
                .then(|| PyBool::new(py, false).to_owned().into_any()),
            b'n' => self.literal("null").then(|| py.None().into_bound(py)),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    /// An integer as JSON writes it. `None` for what the general path must judge: leading
    /// zeros, `-0` (a float to serde_json), fractions, exponents, more than 18 digits.
    fn integer(&mut self) -> Option<i64> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let start = self.at;
        let mut value: i64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            if self.at - start == MAX_DIGITS {
                return None;
            }
            value = value * 10 + i64::from(digit - b'0');
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.text.as_bytes()[start] == b'0';
        if digits == 0 || leading_zero || (negative && value == 0) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        Some(if negative { -value } else { value })
    }
}
