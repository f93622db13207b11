//! The atomics a lock-free read looks at: std's, or loom's in a `cfg(loom)` build, where
//! the sequence lock and the fields it guards are model-checked (see `tests/loom.rs`).

#[cfg(loom)]
pub(super) use loom::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU64, AtomicU8};
#[cfg(not(loom))]
pub(super) use std::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU64, AtomicU8};
