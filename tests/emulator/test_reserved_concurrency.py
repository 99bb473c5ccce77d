"""The stack's function module with reserved concurrency, applied as a new account would see it.

Lambda Developer Guide, "Configuring reserved concurrency": reservations must leave the account's
minimum unreserved concurrency (100, or the whole quota where that is lower: a new account's
is 10) free, so `reserved_concurrent_executions = 1` (what the producer once had) fails to apply
on a new account with InvalidParameterValueException; without it the function applies.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from local_aws.moto_server import EmulatorHandle, emulator_environment

pytestmark = [pytest.mark.emulator, pytest.mark.terraform, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "scripts" / "terraform"
REFUSAL = (
    "Specified ReservedConcurrentExecutions for function decreases account's "
    "UnreservedConcurrentExecution below its minimum value of [10]."
)

CONFIGURATION = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6.0" }
  }
}

variable "endpoint" { type = string }
variable "reserved" { type = number }

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
    cloudwatchlogs = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    sts            = var.endpoint
  }
}

# As the stack's key: CloudWatch Logs may use it for the function's log group, or AWS refuses
# to associate it with the group.
resource "aws_kms_key" "this" {
  description = "reserved concurrency test"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::123456789012:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Effect    = "Allow"
        Principal = { Service = "logs.us-east-1.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
      },
    ]
  })
}

module "producer" {
  source = "MODULE"

  function_name                  = "reserved-concurrency-producer"
  description                    = "The producer's reservation, alone."
  artifact_path                  = "ARTIFACT"
  timeout_seconds                = 120
  memory_mb                      = 256
  reserved_concurrent_executions = var.reserved
  kms_key_arn                    = aws_kms_key.this.arn
  log_retention_days             = 30
  account_id                     = "123456789012"
  region                         = "us-east-1"
  tags                           = {}
  environment_variables          = { POWERTOOLS_SERVICE_NAME = "producer" }
  policy_statements              = []
}
"""


def terraform(endpoint: str, workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **emulator_environment(endpoint), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(  # noqa: S603 - our terraform wrapper, fixed arguments
        [str(TERRAFORM), f"-chdir={workdir}", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_producer_reservation_is_refused_and_applies_once_removed(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    configuration = CONFIGURATION.replace(
        "MODULE", str(ROOT / "terraform" / "modules" / "function")
    ).replace(
        "ARTIFACT", str(ROOT / "terraform" / "tests" / "fixtures" / "lambda" / "producer.zip")
    )
    (tmp_path / "main.tf").write_text(configuration, encoding="utf-8")
    init = terraform(emulator.endpoint, tmp_path, "init", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr

    def apply(reserved: int) -> subprocess.CompletedProcess[str]:
        variables = tmp_path / "run.tfvars.json"
        variables.write_text(json.dumps({"endpoint": emulator.endpoint, "reserved": reserved}))
        return terraform(
            emulator.endpoint,
            tmp_path,
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            f"-var-file={variables}",
        )

    refused = apply(1)
    accepted = apply(-1)

    assert refused.returncode != 0
    assert "InvalidParameterValueException" in refused.stdout + refused.stderr
    assert REFUSAL in " ".join((refused.stdout + refused.stderr).split())
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
