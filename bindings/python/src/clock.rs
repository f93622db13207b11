//! `keyfob.ManualClock`: time that moves only when told, for tests of the session rules.

use keyfob::Clock;
use pyo3::prelude::*;

use crate::convert::seconds_arg;

/// A clock standing at `now` (Unix seconds) that moves only when told to, for tests of
/// expiry and idle timeouts. Engines built with `clock=` share its time.
#[pyclass(frozen, module = "keyfob", name = "ManualClock")]
pub(crate) struct ManualClock {
    pub(crate) inner: keyfob::ManualClock,
}

#[pymethods]
impl ManualClock {
    #[new]
    fn new(now: i64) -> Self {
        ManualClock {
            inner: keyfob::ManualClock::new(now),
        }
    }

    /// Set the time (Unix seconds).
    fn set(&self, now: i64) {
        self.inner.set(now);
    }

    /// Move the time by `seconds` (an `int` or a `timedelta`; negative goes back).
    fn advance(&self, seconds: &Bound<'_, PyAny>) -> PyResult<()> {
        let delta = seconds_arg(seconds, "seconds")?;
        self.inner.advance(delta);
        Ok(())
    }

    /// The current time (Unix seconds).
    fn now(&self) -> i64 {
        self.inner.now()
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({})", self.inner.now())
    }
}
