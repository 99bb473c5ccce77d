"""The request router remembers which service answers a host instead of searching per request."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from moto import backends
from moto.core import responses
from moto.dynamodb.responses import DynamoHandler
from moto.kinesis.responses import KinesisResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local_aws.moto_patches import dispatch

HOSTS = (
    "dynamodb.us-east-1.amazonaws.com",
    "kinesis.us-east-1.amazonaws.com",
    "firehose.us-east-1.amazonaws.com",
    "trendstream-lake.s3.amazonaws.com",
    "s3.us-east-1.amazonaws.com",
    "glue.us-east-1.amazonaws.com",
    "127.0.0.1:4566",
    "dynamodb",
    None,
)


@pytest.fixture
def router() -> DomainDispatcherApplication:
    return DomainDispatcherApplication(create_backend_app)


@pytest.fixture
def patched() -> Iterator[None]:
    original = DomainDispatcherApplication.get_backend_for_host
    original_method_names = responses.method_names_from_class
    dispatch.apply()
    try:
        yield
    finally:
        DomainDispatcherApplication.get_backend_for_host = original  # type: ignore[method-assign]
        responses.method_names_from_class = original_method_names


def test_every_host_routes_to_the_service_plain_moto_picks(
    router: DomainDispatcherApplication, patched: None
) -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    expected = [dispatch._original_get_backend_for_host(plain, host) for host in HOSTS]
    assert expected[:3] == ["dynamodb", "kinesis", "firehose"]
    assert [router.get_backend_for_host(host) for host in HOSTS] == expected
    assert [router.get_backend_for_host(host) for host in HOSTS] == expected  # remembered


def test_a_known_host_is_routed_without_listing_moto_again(
    router: DomainDispatcherApplication, patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings = 0
    list_modules = backends.list_of_moto_modules

    def counted() -> list[str]:
        nonlocal listings
        listings += 1
        return list(list_modules())

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    for _ in range(50):
        assert router.get_backend_for_host("kinesis.us-east-1.amazonaws.com") == "kinesis"
    assert listings == 1


def test_handler_methods_are_listed_once_per_class(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[object] = []
    getmembers = inspect.getmembers

    def spy(target: object, predicate: Any = None) -> Any:
        listed.append(target)
        return getmembers(target, predicate)

    monkeypatch.setattr(inspect, "getmembers", spy)
    dispatch.method_names_from_class.cache_clear()
    for _ in range(20):
        assert "batch_write_item" in responses.method_names_from_class(DynamoHandler)
        assert "put_records" in responses.method_names_from_class(KinesisResponse)
    assert listed == [DynamoHandler, KinesisResponse]
