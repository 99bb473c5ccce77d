"""Glue: tag calls accept the account-less ARN the provider builds (see `arns.canonical_arn`).

Without this, `aws_glue_catalog_database` reads its tags back empty from
`GetTags(arn:aws:glue:us-east-1::database/x)` and every plan after an apply shows a tag change.
"""

from __future__ import annotations

from moto.glue.models import GlueBackend

from local_aws.moto_patches.arns import canonical_arn

_original_get_tags = GlueBackend.get_tags
_original_tag_resource = GlueBackend.tag_resource
_original_untag_resource = GlueBackend.untag_resource


def get_tags(self: GlueBackend, resource_id: str) -> dict[str, str]:
    tags: dict[str, str] = _original_get_tags(self, canonical_arn(resource_id, self.account_id))
    return tags


def tag_resource(self: GlueBackend, resource_arn: str, tags: dict[str, str] | None) -> None:
    _original_tag_resource(self, canonical_arn(resource_arn, self.account_id), tags)


def untag_resource(self: GlueBackend, resource_arn: str, tag_keys: list[str]) -> None:
    _original_untag_resource(self, canonical_arn(resource_arn, self.account_id), tag_keys)


def apply() -> None:
    GlueBackend.get_tags = get_tags  # type: ignore[method-assign]
    GlueBackend.tag_resource = tag_resource  # type: ignore[method-assign]
    GlueBackend.untag_resource = untag_resource  # type: ignore[method-assign]
