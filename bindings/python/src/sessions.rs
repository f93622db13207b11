//! Session management for `keyfob.Engine`: the metadata keywords of `login`, sessions and
//! metrics as dicts, and the event handler (a Python callable called with an event dict;
//! what it raises is logged on the "keyfob" logger and never reaches the caller).

use std::sync::Arc;

use keyfob::{Event, EventHandler, Metrics, SessionInfo, SessionMeta};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{claims_dict, dict_to_json, text, type_name};
use crate::errors::to_py_err;

/// A `dict` argument as a JSON object (`None`: empty when `optional`).
pub(crate) fn json_object(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Map<String, Value>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Map::new());
    };
    let dict = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!("{what} must be a dict, not {}", type_name(obj)))
    })?;
    dict_to_json(dict, what, 0)
}

fn optional_text(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => Ok(Some(text(o, what)?.to_owned())),
    }
}

/// `login`'s metadata keywords, checked (bounds, an IP address that parses).
pub(crate) fn meta(
    py: Python<'_>,
    label: Option<&Bound<'_, PyAny>>,
    ip: Option<&Bound<'_, PyAny>>,
    user_agent: Option<&Bound<'_, PyAny>>,
    data: Option<&Bound<'_, PyAny>>,
) -> PyResult<SessionMeta> {
    let ip = match optional_text(ip, "ip")? {
        None => None,
        Some(text) => Some(keyfob::session::parse_ip(&text).map_err(|e| to_py_err(py, e))?),
    };
    let meta = SessionMeta {
        label: optional_text(label, "label")?,
        ip,
        user_agent: optional_text(user_agent, "user_agent")?,
        data: json_object(data, "data")?,
    };
    meta.check().map_err(|e| to_py_err(py, e))?;
    Ok(meta)
}

fn object_dict<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    claims_dict(py, &Value::Object(map.clone()).to_string())
}

/// A `SessionInfo` dict.
pub(crate) fn session_dict<'py>(py: Python<'py>, s: &SessionInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("session_id", &s.session_id)?;
    d.set_item("user_id", &s.user_id)?;
    d.set_item("created_at", s.created_at)?;
    d.set_item("last_seen", s.last_seen)?;
    d.set_item("idle_deadline", s.idle_deadline)?;
    d.set_item("absolute_deadline", s.absolute_deadline)?;
    d.set_item("label", &s.label)?;
    d.set_item("ip", s.ip.map(|ip| ip.to_string()))?;
    d.set_item("user_agent", &s.user_agent)?;
    d.set_item("data", object_dict(py, &s.data)?)?;
    d.set_item("claims", object_dict(py, &s.claims)?)?;
    Ok(d)
}

/// A list of `SessionInfo` dicts.
pub(crate) fn session_list<'py>(
    py: Python<'py>,
    list: &[SessionInfo],
) -> PyResult<Bound<'py, PyList>> {
    let items = list
        .iter()
        .map(|s| session_dict(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// A `Metrics` dict.
pub(crate) fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("operations", m.operations.clone())?;
    d.set_item("errors", m.errors.clone())?;
    let latency = PyDict::new(py);
    for (op, h) in &m.store_latency {
        let hist = PyDict::new(py);
        let buckets = h
            .buckets
            .iter()
            .map(|&(bound, n)| {
                PyTuple::new(
                    py,
                    [
                        bound.into_pyobject(py)?.into_any(),
                        n.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        hist.set_item("buckets", PyList::new(py, buckets)?)?;
        hist.set_item("sum", h.sum)?;
        hist.set_item("count", h.count)?;
        latency.set_item(op, hist)?;
    }
    d.set_item("store_latency", latency)?;
    d.set_item("live_sessions", m.live_sessions)?;
    match m.near_cache {
        None => d.set_item("near_cache", py.None())?,
        Some(c) => {
            let nc = PyDict::new(py);
            nc.set_item("hits", c.hits)?;
            nc.set_item("misses", c.misses)?;
            nc.set_item("invalidations", c.invalidations)?;
            d.set_item("near_cache", nc)?;
        }
    }
    Ok(d)
}

fn event_dict<'py>(py: Python<'py>, e: &Event) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", e.kind.as_str())?;
    d.set_item("session_id", &e.session_id)?;
    d.set_item("user_id", &e.user_id)?;
    d.set_item("reason", e.reason.map(|r| r.as_str()))?;
    d.set_item("at", e.at)?;
    d.set_item("label", &e.label)?;
    d.set_item("ip", &e.ip)?;
    d.set_item("user_agent", &e.user_agent)?;
    Ok(d)
}

/// Log what the handler raised on the "keyfob" logger, with its traceback.
fn log_failure(py: Python<'_>, kind: &str, err: PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("keyfob",))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("exc_info", err.value(py))?;
        logger.call_method(
            "error",
            ("the keyfob event handler raised on a %s event", kind),
            Some(&kwargs),
        )?;
        Ok(())
    })();
    if let Err(e) = logged {
        // Logging itself failed (interpreter shutting down): report it the way Python
        // reports errors it cannot raise.
        e.write_unraisable(py, None);
    }
}

/// The core's handler for a Python callable (`None`: no handler).
pub(crate) fn event_handler(handler: Option<&Bound<'_, PyAny>>) -> PyResult<Option<EventHandler>> {
    let Some(handler) = handler.filter(|h| !h.is_none()) else {
        return Ok(None);
    };
    if !handler.is_callable() {
        return Err(PyTypeError::new_err(format!(
            "on_event must be a callable or None, not {}",
            type_name(handler)
        )));
    }
    let handler: Py<PyAny> = handler.clone().unbind();
    Ok(Some(Arc::new(move |event: &Event| {
        Python::attach(|py| {
            let called = event_dict(py, event).and_then(|d| handler.call1(py, (d,)));
            if let Err(err) = called {
                log_failure(py, event.kind.as_str(), err);
            }
        })
    })))
}
