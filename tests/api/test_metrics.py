from __future__ import annotations

from fastapi.testclient import TestClient


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/health")
    client.get("/loans/123")
    client.get("/loans/456")
    text = client.get("/metrics").text
    assert 'peerlend_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'peerlend_http_requests_total{method="GET",route="/loans/{loan_id}",status="401"} 2.0' in text
    assert "/loans/123" not in text
    assert "peerlend_http_request_seconds_bucket" in text
