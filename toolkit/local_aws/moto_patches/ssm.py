"""SSM: a SecureString written without `KeyId` is encrypted with `alias/aws/ssm`, overwrites too.

AWS documents `KeyId` of PutParameter as: without it, the parameter is encrypted with the AWS
managed key (`alias/aws/ssm`). moto 5.2.5 does so when a parameter is created, but an overwrite
without `KeyId` keeps the previous version's key. So `aws ssm put-parameter --overwrite` without
`--key-id` of a parameter Terraform created with a customer managed key looked unchanged here,
while AWS re-keys it to `alias/aws/ssm` (and the next plan shows the drift).
"""

from __future__ import annotations

from typing import Any

from moto.ssm.models import SimpleSystemManagerBackend

DEFAULT_KEY = "alias/aws/ssm"

_original_put_parameter = SimpleSystemManagerBackend.put_parameter


def put_parameter(  # noqa: PLR0917 - moto's own signature, called positionally
    self: SimpleSystemManagerBackend,
    name: str,
    description: str,
    value: str,
    parameter_type: str,
    allowed_pattern: str,
    keyid: str | None,
    overwrite: bool,
    tags: list[dict[str, str]],
    data_type: str,
    tier: str | None = None,
    policies: str | None = None,
) -> Any:
    """moto's PutParameter; a SecureString without KeyId gets the default key, not the last one."""
    if keyid is None:
        versions = name in self._parameters and self._parameters[name]
        stored_type = versions[-1].parameter_type if versions else None
        if (parameter_type or stored_type) == "SecureString":
            keyid = DEFAULT_KEY
    return _original_put_parameter(
        self,
        name,
        description,
        value,
        parameter_type,
        allowed_pattern,
        keyid,  # type: ignore[arg-type]
        overwrite,
        tags,
        data_type,
        tier=tier,
        policies=policies,
    )


def apply() -> None:
    SimpleSystemManagerBackend.put_parameter = put_parameter  # type: ignore[method-assign]
