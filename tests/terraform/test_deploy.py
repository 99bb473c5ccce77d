"""`make deploy` / `make destroy` per environment, the provider pin, and the README that says so."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.moto_server import EmulatorHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
MIRRORS = (Path("/opt/tf-plugins"), Path("/usr/share/terraform/plugins"))
TERRAFORM = REPO_ROOT / "scripts" / "terraform"


def emulator_clients(endpoint: str, region: str) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": region,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


def terraform_commands(target: str, environment: str) -> list[list[str]]:
    """What `make <target> ENV=<environment>` would run, without running it (`make -n`)."""
    shown = subprocess.run(  # noqa: S603 - fixed make invocation
        ["make", "-n", target, f"ENV={environment}"],  # noqa: S607 - make from PATH, as users do
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", " ")
    return [shlex.split(line) for line in shown.splitlines() if "scripts/terraform" in line]


@pytest.mark.parametrize("target", ["deploy", "destroy"])
def test_each_environment_has_a_state_of_its_own(target: str) -> None:
    """Before: both environments used terraform/terraform.tfstate, so `ENV=prod make deploy`
    planned to replace dev."""
    by_environment = {env: terraform_commands(target, env) for env in ("dev", "prod")}

    for env, commands in by_environment.items():
        assert commands, f"make -n {target} ENV={env} runs no terraform"
        for command in commands:
            settings = dict(
                word.split("=", 1) for word in command if re.match(r"^TF_[A-Z_]+=", word)
            )
            assert settings["TF_WORKSPACE"] == env, command
            assert settings["TF_DATA_DIR"].endswith(f"/.deploy/{env}/.terraform"), command
        assert any(f"-var-file=environments/{env}.tfvars" in command for command in commands)


def test_a_team_backend_file_is_passed_when_present(tmp_path: Path) -> None:
    backend = REPO_ROOT / "terraform" / "environments" / "zz.s3.tfbackend"
    tfvars = REPO_ROOT / "terraform" / "environments" / "zz.tfvars"
    backend.write_text('bucket = "b"\n', encoding="utf-8")
    tfvars.write_text('environment = "zz"\n', encoding="utf-8")
    try:
        [init] = [c for c in terraform_commands("deploy-init", "zz") if "init" in c]
    finally:
        backend.unlink()
        tfvars.unlink()

    assert "-backend-config=environments/zz.s3.tfbackend" in init
    [plain] = [c for c in terraform_commands("deploy-init", "dev") if "init" in c]
    assert not [word for word in plain if word.startswith("-backend-config")]


def test_root_module_pins_the_provider_it_is_tested_with() -> None:
    versions = (REPO_ROOT / "terraform" / "versions.tf").read_text(encoding="utf-8")
    [pinned] = re.findall(r'version\s*=\s*"=\s*([0-9.]+)"', versions)

    mirrored = sorted(
        path.name
        for mirror in MIRRORS
        for path in (mirror / "registry.terraform.io" / "hashicorp" / "aws").glob("*")
        if path.is_dir()
    )
    if mirrored:
        assert pinned in mirrored
    assert "terraform providers lock" in README
    assert "-platform=" in README


def test_readme_warns_that_tf_log_debug_prints_the_secrets() -> None:
    assert re.search(r"TF_LOG=DEBUG.{0,200}decrypted", README, flags=re.DOTALL)


def test_readme_deploy_guide_covers_the_first_deploy_in_order() -> None:
    guide = README[README.index("## Deploying to AWS") :]
    steps = [
        "**1. Credentials.**",
        "**2. Region.**",
        "**4. Alarm e-mail.**",
        "**5. State: one per environment.**",
        "**6. Deploy.**",
        "**7. Set the X credentials.**",
        "**8. First tweets.**",
        "**9. Verify.**",
        "**10. Teardown.**",
    ]
    positions = [guide.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "make verify" in guide
    assert "confirmation" in guide
    assert "read -rsp" not in README


@pytest.mark.emulator
@pytest.mark.terraform
def test_readme_s3_backend_puts_each_environment_where_it_says(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Before, the README's `key = "trendstream/dev.tfstate"` looked like dev's state, but
    `make deploy` runs in the workspace ENV, so the state went to `env:/dev/trendstream/...`.
    Terraform's own S3 backend, in the README's workspace, against the emulator's S3.

    "Backend Type: s3", workspace_key_prefix: "Prefix applied to the state path inside the
    bucket. This is only relevant when using a non-default workspace. Defaults to env:".
    https://developer.hashicorp.com/terraform/language/backend/s3
    """
    [block] = re.findall(r"```hcl\n(bucket\s*=.*?)```", README, flags=re.DOTALL)
    settings = dict(re.findall(r'^(\w+)\s*=\s*"?([^"\n]+)"?$', block, flags=re.MULTILINE))
    [stated] = re.findall(r"`ENV=dev` lands in `s3://([^`]+)`", README)
    bucket, state_key = stated.split("/", 1)
    assert bucket == settings["bucket"]

    s3 = boto3.client("s3", **emulator_clients(emulator.endpoint, settings["region"]))
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings["region"]}
    )
    (tmp_path / "main.tf").write_text('terraform {\n  backend "s3" {}\n}\n', encoding="utf-8")
    (tmp_path / "dev.s3.tfbackend").write_text(block, encoding="utf-8")
    emulator_backend = {
        "endpoints": f'{{ s3 = "{emulator.endpoint}" }}',
        "use_path_style": "true",
        "skip_credentials_validation": "true",
        "skip_requesting_account_id": "true",
        "skip_metadata_api_check": "true",
        "access_key": "test",
        "secret_key": "test",
    }
    overrides = [f"-backend-config={name}={value}" for name, value in emulator_backend.items()]
    environment = {
        **os.environ,
        "TF_DATA_DIR": str(tmp_path / ".terraform"),
        "TF_IN_AUTOMATION": "1",
    }
    for arguments in (
        ["init", "-input=false", "-no-color", "-backend-config=dev.s3.tfbackend", *overrides],
        ["workspace", "new", "-no-color", "dev"],
    ):
        completed = subprocess.run(  # noqa: S603 - fixed wrapper script, arguments built here
            [str(TERRAFORM), f"-chdir={tmp_path}", *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr

    keys = [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert state_key in keys, keys


DEPLOYER_POLICY = REPO_ROOT / "terraform" / "deployer-policy.json"


def deployer_permission_table(policy: dict[str, Any]) -> str:
    """The README's permission list: per service, the actions the deployer policy allows."""
    by_service: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            service, name = action.split(":", 1)
            by_service.setdefault(service, set()).add(name)
    rows = [
        f"| `{service}` | {', '.join(sorted(names))} |"
        for service, names in sorted(by_service.items())
    ]
    return "\n".join(["| service | actions |", "|---|---|", *rows])


def test_readme_permission_list_is_the_deployer_policy() -> None:
    """Before, the README listed services from memory and missed API Gateway and the
    log-delivery actions HTTP API access logs need. Now the list is the shipped policy's."""
    policy = json.loads(DEPLOYER_POLICY.read_text(encoding="utf-8"))
    [listed] = re.findall(
        r"<!-- deployer-policy:begin -->\n(.*?)\n<!-- deployer-policy:end -->", README, re.DOTALL
    )

    assert listed == deployer_permission_table(policy), (
        "paste this between the deployer-policy markers:\n" + deployer_permission_table(policy)
    )
    assert "apigateway" in listed and "CreateLogDelivery" in listed


def test_deployer_policy_fits_an_inline_role_policy() -> None:
    """ "IAM and AWS STS quotas": an inline role policy holds 10,240 characters, white space not
    counted. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    """
    text = DEPLOYER_POLICY.read_text(encoding="utf-8")

    assert len("".join(text.split())) <= 10240
    assert json.loads(text)["Version"] == "2012-10-17"
