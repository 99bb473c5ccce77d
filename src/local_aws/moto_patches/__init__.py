"""Narrow fixes to moto 5.2.5: where it differs from AWS in ways the stack or Terraform notice,
and where a hot path costs far more than the answer it gives.

Each module patches one service (`dispatch`: the request router in front of them) and documents
the moto behaviour it corrects; `apply_all` runs them in the server process before the first
request. They are idempotent.
"""

from __future__ import annotations

from local_aws.moto_patches import (
    athena,
    awslambda,
    dispatch,
    dynamodb,
    dynamodb_fast_paths,
    faults,
    glue,
    kinesis,
    s3,
)

# `faults` last: it wraps what the others patched, and does nothing without TRENDSTREAM_FAULTS.
_PATCHES = (
    dispatch,
    athena,
    awslambda,
    dynamodb,
    dynamodb_fast_paths,
    glue,
    kinesis,
    s3,
    faults,
)


def apply_all() -> None:
    """Install every patch; safe to call more than once."""
    for module in _PATCHES:
        module.apply()
