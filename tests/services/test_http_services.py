"""mock-oauth2-server, stripe-mock, the OpenTelemetry Collector and moto, as `scripts/services`
runs them, through plain HTTP and their usual clients."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.service_env import http_json, required_env

pytestmark = pytest.mark.services


def jwt_part(token: str, index: int) -> Any:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_oidc_discovery_and_a_client_credentials_token() -> None:
    issuer = required_env("OIDC_ISSUER")
    discovery = http_json(f"{issuer}/.well-known/openid-configuration")
    assert discovery["issuer"] == issuer
    keys = http_json(discovery["jwks_uri"])["keys"]
    assert keys and keys[0]["kty"] == "RSA"

    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": "services-test",
            "client_secret": "secret",
            "scope": "items:read",
        }
    ).encode()
    token = http_json(
        discovery["token_endpoint"],
        method="POST",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    header, claims = jwt_part(token["access_token"], 0), jwt_part(token["access_token"], 1)
    assert header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in keys}
    assert claims["iss"] == issuer
    assert claims["sub"] == "services-test"
    assert claims["exp"] > time.time()


def test_oidc_serves_other_issuer_ids() -> None:
    base = required_env("MOCK_OAUTH2_SERVER_URL")
    discovery = http_json(f"{base}/another/.well-known/openid-configuration")
    assert discovery["issuer"] == f"{base}/another"


def test_stripe_mock_validates_requests_against_stripes_spec() -> None:
    base = required_env("STRIPE_API_BASE")
    headers = {
        "Authorization": "Bearer sk_test_services",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    customer = http_json(
        f"{base}/v1/customers", method="POST", data=b"email=a%40example.com", headers=headers
    )
    assert customer["object"] == "customer"
    with pytest.raises(urllib.error.HTTPError) as refused:
        http_json(f"{base}/v1/customers", method="POST", data=b"no_such_param=1", headers=headers)
    assert refused.value.code == 400


def test_a_span_sent_to_the_collector_lands_in_the_spans_file() -> None:
    endpoint = required_env("OTEL_EXPORTER_OTLP_ENDPOINT")
    spans_file = Path(required_env("OTEL_COLLECTOR_SPANS_FILE"))
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    now = time.time_ns()
    service_name = {"key": "service.name", "value": {"stringValue": "services-test"}}
    export = {
        "resourceSpans": [
            {
                "resource": {"attributes": [service_name]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "services-test-span",
                                "kind": 2,
                                "startTimeUnixNano": str(now - 1_000_000),
                                "endTimeUnixNano": str(now),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    http_json(
        f"{endpoint}/v1/traces",
        method="POST",
        data=json.dumps(export).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 10
    while True:
        lines = spans_file.read_text(encoding="utf-8").splitlines() if spans_file.exists() else []
        found = [line for line in lines if trace_id in line]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found, f"span of trace {trace_id} not in {spans_file} after 10s"
    span = json.loads(found[0])["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert (span["traceId"], span["spanId"], span["name"]) == (
        trace_id,
        span_id,
        "services-test-span",
    )


def aws_client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=required_env("AWS_ENDPOINT_URL"),
        region_name=required_env("AWS_DEFAULT_REGION"),
        aws_access_key_id=required_env("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=required_env("AWS_SECRET_ACCESS_KEY"),
    )


def test_moto_answers_sts_and_s3() -> None:
    identity = aws_client("sts").get_caller_identity()
    assert identity["Account"].isdigit()
    s3 = aws_client("s3")
    bucket = f"services-test-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=bucket)
    try:
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        s3.delete_bucket(Bucket=bucket)
