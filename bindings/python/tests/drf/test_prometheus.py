"""keyfob.prometheus: the engine's metrics as a prometheus_client collector, scraped from the
example's ``/metrics`` (Django's test client here, a real server below) and parsed with
prometheus_client's own parser."""

from __future__ import annotations

from typing import Any

import pytest
from example_server import ExampleServer, prepare_database
from keyfob.prometheus import EngineCollector
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def parse(text: str) -> dict[str, Any]:
    """Families by name (counters without their ``_total``, as the parser names them)."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def sample(families: dict[str, Any], family: str, name: str, **labels: str) -> float | None:
    for s in families[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return None


def check_histograms(families: dict[str, Any]) -> set[str]:
    """Each store-latency histogram is well formed; returns the operations it has."""
    histogram = families["keyfob_store_latency_seconds"]
    assert histogram.type == "histogram"
    operations = {s.labels["operation"] for s in histogram.samples}
    for operation in operations:
        buckets = [
            (s.labels["le"], s.value)
            for s in histogram.samples
            if s.name.endswith("_bucket") and s.labels["operation"] == operation
        ]
        counts = [value for _, value in buckets]
        assert counts == sorted(counts), (operation, buckets)
        assert buckets[-1][0] == "+Inf"
        total = sample(
            families,
            "keyfob_store_latency_seconds",
            "keyfob_store_latency_seconds_count",
            operation=operation,
        )
        assert buckets[-1][1] == total
    return operations


def login(client: APIClient) -> dict[str, str]:
    reply = client.post("/api/token/", {"username": "admin", "password": "admin"}, format="json")
    assert reply.status_code == 200
    return reply.json()


def test_the_example_metrics_page_counts_what_the_engine_did(admin):
    client = APIClient()
    first, second = login(client), login(client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    assert client.get("/api/hello/").status_code == 200
    assert APIClient().post("/api/token/blacklist/", {"refresh": first["refresh"]}).status_code
    assert client.get("/api/hello/").status_code == 401  # revoked
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {second['access']}")
    assert client.get("/api/sessions/").status_code == 200  # one listing, timed every time
    page = APIClient().get("/metrics")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/plain")
    families = parse(page.content.decode())
    assert families["keyfob_operations"].type == "counter"
    assert sample(families, "keyfob_operations", "keyfob_operations_total", operation="login") == 2
    validated = sample(
        families, "keyfob_operations", "keyfob_operations_total", operation="validate"
    )
    assert validated is not None and validated >= 2
    assert sample(families, "keyfob_errors", "keyfob_errors_total", error="revoked") == 1
    assert sample(families, "keyfob_live_sessions", "keyfob_live_sessions") == 1
    assert (
        sample(families, "keyfob_operations", "keyfob_operations_total", operation="sessions") == 1
    )
    assert "user_sessions" in check_histograms(families)
    listing = sample(
        families,
        "keyfob_store_latency_seconds",
        "keyfob_store_latency_seconds_count",
        operation="user_sessions",
    )
    assert listing == 1


class FixedEngine:
    """An engine's ``metrics()`` answer, to pin the collector's translation exactly."""

    def __init__(self, metrics: dict[str, Any]) -> None:
        self._metrics = metrics

    def metrics(self) -> dict[str, Any]:
        return self._metrics


def test_the_collector_translates_every_field():
    engine = FixedEngine(
        {
            "operations": {"login": 3, "validate": 10},
            "errors": {"expired": 2},
            "store_latency": {
                "get": {
                    "buckets": [(0.01, 4), (0.001, 1), (float("inf"), 5)],
                    "sum": 0.03,
                    "count": 5,
                },
            },
            "live_sessions": 7,
            "near_cache": {"hits": 9, "misses": 2, "invalidations": 1},
        }
    )
    registry = CollectorRegistry()
    registry.register(EngineCollector(lambda: engine))  # type: ignore[arg-type,return-value]
    families = parse(generate_latest(registry).decode())
    assert (
        sample(families, "keyfob_operations", "keyfob_operations_total", operation="validate") == 10
    )
    assert sample(families, "keyfob_errors", "keyfob_errors_total", error="expired") == 2
    assert sample(families, "keyfob_live_sessions", "keyfob_live_sessions") == 7
    assert [
        (s.labels["le"], s.value)
        for s in families["keyfob_store_latency_seconds"].samples
        if s.name.endswith("_bucket")
    ] == [("0.001", 1), ("0.01", 4), ("+Inf", 5)]
    assert sample(
        families,
        "keyfob_store_latency_seconds",
        "keyfob_store_latency_seconds_sum",
        operation="get",
    ) == pytest.approx(0.03)
    for key, value in (("hits", 9), ("misses", 2), ("invalidations", 1)):
        name = f"keyfob_near_cache_{key}"
        assert sample(families, name, f"{name}_total") == value
    engine._metrics["near_cache"] = None
    assert not any("near_cache" in name for name in parse(generate_latest(registry).decode()))


def test_a_real_server_serves_its_metrics(tmp_path):
    import requests

    server = ExampleServer(tmp_path, prepare_database(tmp_path))
    server.start()
    try:
        for agent in ("metrics-test-a/1", "metrics-test-b/1"):
            reply = requests.post(
                server.url + "/api/token/",
                json={"username": "admin", "password": "admin"},
                headers={"User-Agent": agent},
                timeout=30,
            )
            assert reply.status_code == 200, reply.text
        scraped = requests.get(server.url + "/metrics", timeout=30)
    finally:
        server.stop()
    assert scraped.status_code == 200
    families = parse(scraped.text)
    assert sample(families, "keyfob_operations", "keyfob_operations_total", operation="login") == 2
    assert sample(families, "keyfob_live_sessions", "keyfob_live_sessions") == 2
    check_histograms(families)
