"""A Prometheus collector that reads the platform's state at scrape time, with a short cache.

Daphne, Celery and every call worker are separate processes, so counters kept in memory
by any one of them would show only its share. Each app therefore provides functions that
read what is already recorded for every process (PostgreSQL rows, Redis registries); this
collector calls them when scraped and reuses the answer for METRICS_CACHE_SECONDS, which
bounds the cost when several scrapers ask at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from django.conf import settings
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

MetricSource = Callable[[], list[Metric]]


class CachedCollector(Collector):
    def __init__(self, sources: Sequence[MetricSource]) -> None:
        self._sources = list(sources)
        self._lock = threading.Lock()
        self._expires = 0.0
        self._metrics: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = time.monotonic()
            if now >= self._expires:
                self._metrics = [metric for source in self._sources for metric in source()]
                self._expires = now + settings.METRICS_CACHE_SECONDS
            metrics = self._metrics
        yield from metrics
