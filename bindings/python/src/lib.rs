//! `keyfob._keyfob`: the native module behind the `keyfob` Python package.
//! One file per domain: the engine, its config from kwargs, the clock, the result objects,
//! client binding (DPoP requests), the exception hierarchy, and value conversion.

mod claims;
mod client_binding;
mod clock;
mod config;
mod convert;
mod engine;
mod errors;
mod schema;
mod sessions;
mod tokens;

use pyo3::prelude::*;

#[pymodule]
fn _keyfob(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_class::<tokens::TokenPair>()?;
    m.add_class::<tokens::SlidingToken>()?;
    m.add_class::<clock::ManualClock>()?;
    m.add_class::<client_binding::DpopRequest>()?;
    m.add_function(wrap_pyfunction!(client_binding::jwk_thumbprint, m)?)?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
