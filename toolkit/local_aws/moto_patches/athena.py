"""Athena: the calls the Terraform provider makes for workgroups and named queries.

- moto has no `DeleteNamedQuery`, so `terraform destroy` of an `aws_athena_named_query` retries
  until it times out. Implemented here.
- moto answers `GetNamedQuery` for an unknown id with a 500 (it dereferences None); AWS answers
  InvalidRequestException, which the provider reads as "gone".
- moto answers `ListTagsForResource` with 400 "does not exist" for a resource that exists but has
  no tags; AWS answers an empty list.
- Tag calls accept the account-less ARN the provider builds (see `arns.canonical_arn`).
"""

from __future__ import annotations

import json
from typing import Any

from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse

from local_aws.moto_patches.arns import canonical_arn

_original_get_named_query = AthenaResponse.get_named_query
_original_tag_resource = AthenaBackend.tag_resource
_original_untag_resource = AthenaBackend.untag_resource


def _invalid_request(message: str) -> tuple[str, dict[str, int]]:
    return json.dumps({"__type": "InvalidRequestException", "Message": message}), {"status": 400}


def delete_named_query(self: AthenaResponse) -> tuple[str, dict[str, int]] | str:
    query_id = self._get_param("NamedQueryId")
    if self.athena_backend.named_queries.pop(query_id, None) is None:
        return _invalid_request(f"NamedQuery {query_id} does not exist")
    return "{}"


def get_named_query(self: AthenaResponse) -> tuple[str, dict[str, int]] | str:
    query_id = self._get_param("NamedQueryId")
    if self.athena_backend.get_named_query(query_id) is None:
        return _invalid_request(f"NamedQuery {query_id} does not exist")
    result: str = _original_get_named_query(self)
    return result


def list_tags_for_resource(self: AthenaBackend, resource_arn: str) -> dict[str, Any] | None:
    """Tags of an existing resource, empty when it has none; None only when it does not exist."""
    arn = canonical_arn(resource_arn, self.account_id)
    if not any(resource.arn == arn for resource in self.iter_tagged_resources()):
        return None
    tags: dict[str, Any] = self.tagger.list_tags_for_resource(arn)
    return tags


def tag_resource(self: AthenaBackend, arn: str, tags: dict[str, str]) -> None:
    _original_tag_resource(self, canonical_arn(arn, self.account_id), tags)


def untag_resource(self: AthenaBackend, arn: str, tag_keys: list[str]) -> None:
    _original_untag_resource(self, canonical_arn(arn, self.account_id), tag_keys)


def apply() -> None:
    AthenaResponse.delete_named_query = delete_named_query  # type: ignore[attr-defined]
    AthenaResponse.get_named_query = get_named_query  # type: ignore[method-assign,assignment]
    AthenaBackend.list_tags_for_resource = list_tags_for_resource  # type: ignore[method-assign]
    AthenaBackend.tag_resource = tag_resource  # type: ignore[method-assign]
    AthenaBackend.untag_resource = untag_resource  # type: ignore[method-assign]
