"""ARNs as the Terraform provider builds them without an account id."""

from __future__ import annotations

_ARN_FIELDS = 6
_ACCOUNT_FIELD = 4


def canonical_arn(arn: str, account_id: str) -> str:
    """Fill in an empty account field: `arn:aws:glue:us-east-1::database/x` -> `...:123...:...`.

    With `skip_requesting_account_id` (needed against an emulator) the provider does not know the
    account, so it builds ARNs for tag calls with an empty account field; moto keys tags by the
    full ARN and would answer "no tags", planning a tag change after every apply.
    """
    fields = arn.split(":", _ARN_FIELDS - 1)
    if len(fields) == _ARN_FIELDS and fields[_ACCOUNT_FIELD] == "":
        fields[_ACCOUNT_FIELD] = account_id
    return ":".join(fields)
