"""GET /metrics: the Prometheus exposition of the app's registry.

The format follows the scraper's `Accept` header: Prometheus asks for OpenMetrics, the only
format that carries exemplars (trace ids on latency buckets); anything else gets the classic
text format. With METRICS_PORT set the metrics are served on that port alone, so this route
answers 404: the app's own port is the one behind the load balancer.
"""

from http import HTTPStatus

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import choose_encoder

from ..problems import PROBLEM_MEDIA_TYPE, problem_response
from .telemetry import telemetry_of

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        HTTPStatus.OK.value: {"content": {"text/plain": {}}, "description": "Prometheus metrics"},
        HTTPStatus.NOT_FOUND.value: {
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "Metrics are served on METRICS_PORT",
        },
    },
)
async def metrics(request: Request) -> Response:
    if request.app.state.settings.metrics_port is not None:
        return problem_response(HTTPStatus.NOT_FOUND)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    body = encode(telemetry_of(request.app).registry)
    return Response(content=body, media_type=content_type)
