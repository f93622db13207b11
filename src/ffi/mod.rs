//! The C ABI. See `include/keyfob.h`.
