"""What every handler test gets: the shared metrics publish under a namespace, whatever ran first.

``shared.observability.metrics`` is created once, at the first import of any handler, and reads
``POWERTOOLS_METRICS_NAMESPACE`` then; the construct always sets it on a function. A pattern's
tests that set the variable after another pattern's tests imported the handlers would otherwise
flush metrics without a namespace, which Powertools refuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

TEST_NAMESPACE = "ServerlessPatterns/Test"


@pytest.fixture(autouse=True)
def _metrics_namespace() -> Iterator[None]:
    """Pin the namespace the construct would set, unless a test set its own; restore it afterwards."""
    # Imported here, not at collection: the pattern's own conftest sets the service name first.
    from serverless_patterns.lambdas.shared.observability import metrics

    provider = metrics.provider
    before = provider.namespace
    provider.namespace = before or TEST_NAMESPACE
    yield
    provider.namespace = before
