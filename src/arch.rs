//! The one home of CPU-specific code: what this CPU offers, detected once per process,
//! running portable code compiled for it, and the cache-line prefetch. Everything else in the
//! crate is plain Rust; a fast path that wants wider vectors takes a [`Vectors`] when it is
//! built and runs through it.

use std::sync::OnceLock;

/// The widest vectors this CPU offers that keyfob uses. Detected once, then kept by the code
/// that uses it (e.g. a matcher built with the engine), so a call pays a plain branch, not a
/// feature check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vectors {
    /// Only [`Vectors::detect`] sets this, and only on a CPU with AVX2: that is what makes
    /// [`Vectors::run`] sound.
    avx2: bool,
}

impl Vectors {
    /// This CPU's vectors, detected on the first call in the process.
    pub(crate) fn detect() -> Vectors {
        static DETECTED: OnceLock<Vectors> = OnceLock::new();
        *DETECTED.get_or_init(|| Vectors { avx2: has_avx2() })
    }

    /// The target's baseline vectors (SSE2 on x86-64), on any CPU: the slow twin.
    #[cfg(test)]
    pub(crate) const fn baseline() -> Vectors {
        Vectors { avx2: false }
    }

    /// Whether code runs with AVX2.
    #[cfg(test)]
    pub(crate) fn is_wide(self) -> bool {
        self.avx2
    }

    /// Run `f` compiled for these vectors. `f` is meant to be a closure over
    /// `#[inline(always)]` code written to vectorize (no branch per byte), so the compiler
    /// builds it again inside a function with the wider instruction set enabled.
    #[inline(always)]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when `detect` found AVX2 on this CPU.
            return unsafe { with_avx2(f) };
        }
        f()
    }
}

/// Whether this CPU runs SHA-256 in hardware (SHA-NI, what `sha2` needs for its fast path),
/// detected on the first call in the process.
#[cfg(feature = "resumed-hmac")]
pub(crate) fn sha256_instructions() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("sha")
                && std::arch::is_x86_feature_detected!("sse2")
                && std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("sse4.1")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// Ask the CPU to load the cache line at `at` without waiting for it. A hint: it reads nothing
/// into the program, and any address is fine (a bad one is ignored, never a fault).
#[inline]
pub(crate) fn prefetch<T>(at: *const T) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a prefetch reads nothing into the program and never faults, whatever the
    // address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>());
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = at;
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `f`, inlined into a function compiled with AVX2 (32-byte vectors; the x86-64 baseline has 16).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_is_stable_and_baseline_runs_anywhere() {
        assert_eq!(Vectors::detect(), Vectors::detect());
        assert!(!Vectors::baseline().is_wide());
        assert_eq!(Vectors::baseline().run(|| 7), 7);
        assert_eq!(Vectors::detect().run(|| 7), 7);
        assert_eq!(Vectors::detect().is_wide(), has_avx2());
    }
}
