"""``/metrics``: the engine's metrics in Prometheus' text format (keyfob.prometheus), for
a Prometheus server on the operators' network. Set KEYFOB_METRICS=0 to leave it out."""

from django.http import HttpResponse
from keyfob.drf.engine import get_engine
from keyfob.prometheus import EngineCollector
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

# Its own registry: the page shows keyfob's metrics only (no process metrics twice when the
# project also uses prometheus_client's default registry).
registry = CollectorRegistry()
registry.register(EngineCollector(get_engine))


def metrics(request):
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
