"""Kinesis: `CreateStream` applies its `Tags`.

moto 5.2.5 ignores the `Tags` parameter of CreateStream. The provider sends the stream's tags
there and reads them back with ListTagsForStream, so the first plan after an apply would show a
`tags_all` change that a second apply "fixes".
"""

from __future__ import annotations

from typing import Any

from moto.kinesis.responses import KinesisResponse

_original_create_stream = KinesisResponse.create_stream


def create_stream(self: KinesisResponse) -> Any:
    result = _original_create_stream(self)
    tags: dict[str, str] | None = self._get_param("Tags")
    if tags:
        self.kinesis_backend.add_tags_to_stream(
            stream_arn=None, stream_name=self._get_param("StreamName"), tags=tags
        )
    return result


def apply() -> None:
    KinesisResponse.create_stream = create_stream  # type: ignore[method-assign]
