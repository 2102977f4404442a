"""The API documentation pages load nothing from other hosts, so they work offline."""

from __future__ import annotations

import re

import pytest
from service_support import Service

URL_ATTRIBUTE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url: ["']([^"']+)["']""")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "/docs",
            {
                "/docs/assets/swagger-ui.css",
                "/docs/assets/favicon.png",
                "/docs/assets/swagger-ui-bundle.js",
                "/openapi.json",
            },
        ),
        (
            "/redoc",
            {"/docs/assets/favicon.png", "/docs/assets/redoc.standalone.js", "/openapi.json"},
        ),
    ],
)
def test_docs_pages_reference_only_local_urls_that_answer(
    service: Service, page: str, expected: set[str]
) -> None:
    answer = service.client.get(page)
    assert answer.status_code == 200
    assert "http://" not in answer.text and "https://" not in answer.text
    urls = {a or b for a, b in URL_ATTRIBUTE.findall(answer.text)}
    assert urls == expected
    for url in urls:
        fetched = service.client.get(url)
        assert fetched.status_code == 200, url
        assert len(fetched.content) > 1000, url


def test_swagger_bundle_is_version_5_for_openapi_3_1(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    bundle = service.client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert re.search(r'"5\.\d+\.\d+"', bundle)  # Swagger UI 4 cannot render OpenAPI 3.1
