"""The engine's metrics for Prometheus: a ``prometheus_client`` collector over
``Engine.metrics()``, read at each scrape (needs ``pip install prometheus_client``).

    from prometheus_client import REGISTRY
    from keyfob.prometheus import EngineCollector

    REGISTRY.register(EngineCollector(engine))      # or EngineCollector(get_engine)

Families (with the default ``namespace="keyfob"``):

- ``keyfob_operations_total{operation}``: calls per engine operation (login, validate, ...).
- ``keyfob_errors_total{error}``: refusals and failures per error name (expired, revoked, ...).
- ``keyfob_store_latency_seconds{operation}``: a histogram of store call durations per store
  operation.
- ``keyfob_live_sessions``: sessions alive in the store.
- ``keyfob_near_cache_hits_total``, ``..._misses_total``, ``..._invalidations_total``: the
  near cache in front of a shared store, when the engine has one.

Counters count from the engine's start, so they restart at zero with the process, as
Prometheus expects of counters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

import keyfob

__all__ = ["EngineCollector"]


class EngineCollector(Collector):
    """Exposes one engine's ``metrics()``. ``engine`` is a ``keyfob.Engine`` or a callable
    returning the current one (such as ``keyfob.drf.engine.get_engine``, whose engine is
    rebuilt when the settings change)."""

    def __init__(
        self,
        engine: keyfob.Engine | Callable[[], keyfob.Engine],
        *,
        namespace: str = "keyfob",
    ) -> None:
        self._engine = engine
        self.namespace = namespace

    def engine(self) -> keyfob.Engine:
        if isinstance(self._engine, keyfob.Engine):
            return self._engine
        return self._engine()

    def _name(self, name: str) -> str:
        return f"{self.namespace}_{name}" if self.namespace else name

    def describe(self) -> list[Metric]:
        # Collecting needs the engine (and maybe its store); registering must not.
        return []

    def collect(self) -> Iterator[Metric]:
        metrics: Mapping[str, Any] = self.engine().metrics()
        yield counters(
            self._name("operations"),
            "Engine calls, by operation.",
            "operation",
            metrics.get("operations", {}),
        )
        yield counters(
            self._name("errors"),
            "Errors the engine returned, by error name.",
            "error",
            metrics.get("errors", {}),
        )
        latency = HistogramMetricFamily(
            self._name("store_latency_seconds"),
            "Duration of session store calls, by store operation.",
            labels=["operation"],
        )
        for operation, histogram in sorted(metrics.get("store_latency", {}).items()):
            latency.add_metric(
                [operation],
                buckets=histogram_buckets(histogram),
                sum_value=float(histogram.get("sum", 0.0)),
            )
        yield latency
        yield GaugeMetricFamily(
            self._name("live_sessions"),
            "Sessions alive in the store.",
            value=float(metrics.get("live_sessions", 0)),
        )
        near = metrics.get("near_cache")
        if near is not None:
            for key, help_text in (
                ("hits", "Session reads the near cache answered."),
                ("misses", "Session reads the near cache passed to the store."),
                ("invalidations", "Near-cache entries dropped because the session changed."),
            ):
                yield CounterMetricFamily(
                    self._name(f"near_cache_{key}"), help_text, value=float(near.get(key, 0))
                )


def counters(name: str, help_text: str, label: str, values: Mapping[str, int]) -> Metric:
    family = CounterMetricFamily(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], float(value))
    return family


def histogram_buckets(histogram: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The engine's cumulative buckets as Prometheus wants them: ascending, ending at
    ``+Inf`` with the total count."""
    count = float(histogram.get("count", 0))
    buckets: list[tuple[str, float]] = []
    for bound, cumulative in sorted(histogram.get("buckets", []), key=lambda b: float(b[0])):
        bound = float(bound)
        if math.isinf(bound):
            continue
        buckets.append((format_bound(bound), float(cumulative)))
    buckets.append(("+Inf", count))
    return buckets


def format_bound(bound: float) -> str:
    """A bucket bound as prometheus_client writes its own (``0.005``, ``1.0``)."""
    return repr(float(bound))
