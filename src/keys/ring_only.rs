//! Without the `resumed-hmac` feature: nothing is precomputed, and ring makes every tag.

#[derive(Debug, Default)]
pub(super) struct Resumed;

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
    pub(super) fn verify(&self, _message: &[u8], _sig: &[u8]) -> Option<bool> {
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
