//! Without the `resumed-hmac` feature: nothing is precomputed, and ring makes every tag.

#[derive(Debug, Default)]
pub(super) struct Resumed;

/// No HMAC runs in steps: there is never one.
pub(super) enum Running<'p, 'm> {
    #[allow(dead_code)] // never made
    Never(
        std::convert::Infallible,
        std::marker::PhantomData<(&'p (), &'m ())>,
    ),
}

impl Running<'_, '_> {
    pub(super) fn step(&mut self) {
        match self {
            Running::Never(never, _) => match *never {},
        }
    }
    pub(super) fn verify(self, _sig: &[u8]) -> bool {
        match self {
            Running::Never(never, _) => match never {},
        }
    }
}

impl Resumed {
    pub(super) fn for_key(_hs256: bool, _secret: &[u8]) -> Resumed {
        Resumed
    }
    pub(super) fn precompute(&mut self, _message_start: &[u8]) {}
    pub(super) fn sign(&self, _message: &[u8]) -> Option<[u8; 32]> {
        None
    }
    pub(super) fn sign_two(&self, _a: &[u8], _b: &[u8]) -> Option<([u8; 32], [u8; 32])> {
        None
    }
    pub(super) fn begin<'p, 'm>(&'p self, _message: &'m [u8]) -> Option<Running<'p, 'm>> {
        None
    }
    #[cfg(test)]
    pub(super) fn covered(&self, _message: &[u8]) -> bool {
        false
    }
}

/// Nothing resumes without the feature, forced or not.
#[cfg(test)]
pub(crate) fn force_resuming_on_this_thread() {}

/// Whether this CPU runs SHA-256 in hardware (what resuming would need).
#[cfg(test)]
pub(crate) fn hardware_sha256() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
