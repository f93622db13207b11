//! Give the shared library its name as its soname, so programs linked against it (by path,
//! as CMake does, or with -lkeyfob) record `libkeyfob.so` rather than a build path.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkeyfob.so");
    }
}
