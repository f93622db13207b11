//! Engine time from Python: `keyfob.ManualClock` (time that moves only when told), and an
//! engine built with `clock=<callable>` reading Python's own clock (`time.time`, which
//! freezegun and time-machine move in tests).

use std::cell::Cell;

use keyfob::Clock;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::convert::{seconds_arg, type_name};

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

thread_local! {
    /// The time an engine on a Python clock reads during the current call on this thread.
    static NOW: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The core clock of an engine whose time comes from a Python callable (`clock=time.time`).
/// The binding calls the callable once, with the GIL, as each engine call starts, and leaves
/// the value here for that call: the engine reads its clock on the calling thread (with or
/// without the GIL), so every read within one call sees the same second, and threads never
/// see each other's values. Outside a call it reads the wall clock.
pub(crate) struct CallerClock;

impl Clock for CallerClock {
    fn now(&self) -> i64 {
        NOW.with(Cell::get)
            .unwrap_or_else(|| keyfob::SystemClock.now())
    }
}

/// Restores the thread's previous call time when an engine call ends.
pub(crate) struct CallTime {
    previous: Option<i64>,
}

impl Drop for CallTime {
    fn drop(&mut self) {
        NOW.with(|now| now.set(self.previous));
    }
}

/// Where an engine on a Python clock reads its time.
pub(crate) enum PythonTime {
    /// `clock=time.time`: the `time` module's `time` looked up at each call, so a test
    /// that replaces it (freezegun) or patches it (time-machine) moves the engine.
    TimeModule(Py<PyModule>),
    /// Any other callable.
    Callable(Py<PyAny>),
}

impl PythonTime {
    pub(crate) fn new(callable: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = callable.py();
        let time = py.import("time")?;
        if callable.is(&time.getattr("time")?) {
            return Ok(PythonTime::TimeModule(time.unbind()));
        }
        Ok(PythonTime::Callable(callable.clone().unbind()))
    }

    /// Read the time and make it this thread's engine time until the guard drops.
    pub(crate) fn enter(&self, py: Python<'_>) -> PyResult<CallTime> {
        match self {
            PythonTime::TimeModule(time) => {
                enter(&time.bind(py).getattr(pyo3::intern!(py, "time"))?)
            }
            PythonTime::Callable(f) => enter(f.bind(py)),
        }
    }
}

/// Read `callable()` (Unix seconds, int or float; floats round down) and make it this
/// thread's time until the returned guard drops.
pub(crate) fn enter(callable: &Bound<'_, PyAny>) -> PyResult<CallTime> {
    let value = callable.call0()?;
    let seconds = if value.is_instance_of::<PyBool>() {
        None
    } else if let Ok(int) = value.cast::<PyInt>() {
        int.extract::<i64>().ok()
    } else if let Ok(float) = value.cast::<PyFloat>() {
        let f = float.value();
        // In range and finite: the cast then only drops the fraction.
        (f.is_finite() && f.abs() < 9.0e15).then(|| f.floor() as i64)
    } else {
        return Err(PyTypeError::new_err(format!(
            "the engine's clock must return Unix seconds as int or float, not {}",
            type_name(&value)
        )));
    };
    let seconds = seconds.ok_or_else(|| {
        PyValueError::new_err(format!(
            "the engine's clock returned {}, not a time in Unix seconds",
            value
                .repr()
                .map_or_else(|_| "?".to_owned(), |r| r.to_string())
        ))
    })?;
    let previous = NOW.with(|now| now.replace(Some(seconds)));
    Ok(CallTime { previous })
}
