"""Application Auto Scaling: scalable targets keep their tags, and ListTagsForResource answers.

AWS tags a scalable target given `Tags` in RegisterScalableTarget and lists them by the target's
ARN with ListTagsForResource (also TagResource and UntagResource). moto 5.2.5 drops `Tags` and
implements none of the three: its server answers 500 NotImplementedError, which the AWS provider
retries until its timeout, so `aws_appautoscaling_target` (a provisioned EventData table's auto
scaling) never finished creating on the emulator.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.utilities.tagging_service import TaggingService

_original_register = ApplicationAutoScalingResponse.register_scalable_target
_original_deregister = ApplicationAutoscalingBackend.deregister_scalable_target


def _tags(backend: ApplicationAutoscalingBackend) -> TaggingService:
    """One tag store per account and region, kept on the backend."""
    store = backend.__dict__.get("_trendstream_tags")
    if store is None:
        store = backend.__dict__["_trendstream_tags"] = TaggingService()
    return store


def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
    """moto's RegisterScalableTarget, keeping `Tags` under the target's ARN."""
    answer = _original_register(self)
    tags = self._get_param("Tags") or {}
    if tags:
        arn = json.loads(answer)["ScalableTargetARN"]
        _tags(self.applicationautoscaling_backend).tag_resource(
            arn, TaggingService.convert_dict_to_tags_input(tags)
        )
    return answer


def deregister_scalable_target(
    self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str
) -> None:
    """moto's DeregisterScalableTarget; the target's tags go with it."""
    targets = self.describe_scalable_targets(namespace, [r_id], dimension)
    _original_deregister(self, namespace, r_id, dimension)
    for target in targets:
        _tags(self).delete_all_tags_for_resource(target.arn)


def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    arn = self._get_param("ResourceARN")
    tags = _tags(self.applicationautoscaling_backend).get_tag_dict_for_resource(arn)
    return json.dumps({"Tags": tags})


def tag_resource(self: ApplicationAutoScalingResponse) -> str:
    tags: dict[str, Any] = self._get_param("Tags") or {}
    _tags(self.applicationautoscaling_backend).tag_resource(
        self._get_param("ResourceARN"), TaggingService.convert_dict_to_tags_input(tags)
    )
    return json.dumps({})


def untag_resource(self: ApplicationAutoScalingResponse) -> str:
    _tags(self.applicationautoscaling_backend).untag_resource_using_names(
        self._get_param("ResourceARN"), self._get_param("TagKeys") or []
    )
    return json.dumps({})


def apply() -> None:
    response = ApplicationAutoScalingResponse
    response.register_scalable_target = register_scalable_target  # type: ignore[method-assign]
    response.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    response.tag_resource = tag_resource  # type: ignore[attr-defined]
    response.untag_resource = untag_resource  # type: ignore[attr-defined]
    backend = ApplicationAutoscalingBackend
    backend.deregister_scalable_target = deregister_scalable_target  # type: ignore[method-assign]
