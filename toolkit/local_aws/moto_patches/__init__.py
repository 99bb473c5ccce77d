"""Narrow fixes to moto 5.2.5 where it differs from AWS in ways the stack, Terraform or users see.

Each module patches one service and documents the moto behaviour it corrects (`iam`: the
authorisation of requests signed with a role's credentials, across services; `kms`: the KMS calls
services make for those requests); `apply_all` runs
them in the server process before the first request. They are idempotent. They reach into moto's
internals, which change between releases, so `apply_all` refuses any moto but the pinned one.
"""

from __future__ import annotations

import moto

from local_aws.moto_patches import (
    applicationautoscaling,
    athena,
    awslambda,
    cloudwatch,
    dynamodb,
    faults,
    glue,
    iam,
    kinesis,
    kms,
    s3,
    ssm,
)

PINNED_MOTO_VERSION = "5.2.5"
"""The moto release every patch was written and tested against (requirements/dev.txt pins it)."""

# `faults` last: it wraps what the others patched, and does nothing without TRENDSTREAM_FAULTS.
# `kms` after `iam`: it authorises the KMS calls a service makes once the request is allowed.
_PATCHES = (
    applicationautoscaling,
    athena,
    awslambda,
    cloudwatch,
    dynamodb,
    glue,
    iam,
    kms,
    kinesis,
    s3,
    ssm,
    faults,
)


class MotoVersionError(RuntimeError):
    """The installed moto is not the release the patches were written for."""


def check_moto_version(installed: str | None = None) -> None:
    """Refuse a moto other than the pinned release: the patches replace its private internals."""
    version = moto.__version__ if installed is None else installed
    if version != PINNED_MOTO_VERSION:
        raise MotoVersionError(
            f"the emulator's moto patches are written for moto {PINNED_MOTO_VERSION}, but moto "
            f"{version} is installed: install the pinned requirements (make build)"
        )


def apply_all() -> None:
    """Install every patch; safe to call more than once."""
    check_moto_version()
    for module in _PATCHES:
        module.apply()
