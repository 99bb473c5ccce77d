"""The stack driver: how it runs Terraform, and a real apply/plan/destroy against the emulator."""

from __future__ import annotations

import json
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.stack_plan import plan_has_changes

from local_aws.moto_server import emulator_environment, start_emulator, stop_emulator
from trendstream_cli import stack

CONTRACT_OUTPUTS = {
    "stream_name",
    "stream_arn",
    "table_name",
    "lake_bucket",
    "delivery_stream_name",
    "producer_function_name",
    "consumer_function_name",
    "transformer_function_name",
    "athena_workgroup",
    "glue_database",
    "glue_table",
    "alarm_topic_arn",
}
LAMBDA_ZIPS = ("producer.zip", "consumer.zip", "firehose_transformer.zip", "api.zip")

FAKE_TERRAFORM = """#!{python}
import json, os, sys
with open(os.environ["FAKE_TF_RECORD"], "a") as record:
    keys = ("TF_DATA_DIR", "TF_IN_AUTOMATION", "TF_INPUT", "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    record.write(json.dumps({{"argv": sys.argv[1:],
                             "env": {{key: os.environ.get(key) for key in keys}}}}) + "\\n")
command = sys.argv[2]
if command == "output":
    print(json.dumps({{"stream_name": {{"value": "trendstream-local-tweets", "type": "string"}},
                      "named": {{"value": {{"top": "id-1"}}, "type": "map"}}}}))
if command == "plan":
    sys.exit(int(os.environ.get("FAKE_TF_PLAN_EXIT", "0")))
if command == "apply" and os.environ.get("FAKE_TF_FAIL_APPLY"):
    print("Error: creating Kinesis Stream: boom")
    sys.exit(1)
"""


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Replace scripts/terraform with a recorder; returns the file it records calls into."""
    script = tmp_path / "terraform"
    script.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "calls.jsonl"
    monkeypatch.setattr(stack, "TERRAFORM_WRAPPER", script)
    monkeypatch.setenv("FAKE_TF_RECORD", str(record))
    return record


def recorded_calls(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_apply_runs_terraform_as_the_contract_says(fake_terraform: Path, tmp_path: Path) -> None:
    paths = stack.StackPaths(tmp_path / "state")
    endpoint = "http://127.0.0.1:4999"

    outputs = stack.apply_stack(endpoint, paths, extra_vars={"lambda_artifacts_dir": "/zips"})

    calls = recorded_calls(fake_terraform)
    assert [call["argv"][1] for call in calls] == ["init", "apply", "output"]
    apply = calls[1]
    assert apply["argv"][0] == f"-chdir={stack.TERRAFORM_DIR}"
    for argument in (
        f"-state={paths.tfstate}",
        "-var-file=environments/local.tfvars",
        f"local_endpoint={endpoint}",
        "lambda_artifacts_dir=/zips",
        "-auto-approve",
    ):
        assert argument in apply["argv"]
    assert apply["env"] == {
        "TF_DATA_DIR": str(paths.tf_data_dir),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert outputs == {"stream_name": "trendstream-local-tweets", "named": {"top": "id-1"}}
    assert stack.read_outputs(paths) == outputs
    assert "$ terraform apply" in paths.terraform_log.read_text()


def test_plan_and_destroy_reuse_the_variables_of_the_apply(
    fake_terraform: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = stack.StackPaths(tmp_path / "state")
    endpoint = "http://127.0.0.1:4999"
    stack.apply_stack(endpoint, paths, extra_vars={"lambda_artifacts_dir": "/zips"})
    paths.tfstate.write_text("{}")

    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "2")
    assert plan_has_changes(endpoint, paths) is True
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "0")
    assert plan_has_changes(endpoint, paths) is False
    stack.destroy_stack(endpoint, paths)

    later = [call for call in recorded_calls(fake_terraform) if call["argv"][1] != "output"][2:]
    assert [call["argv"][1] for call in later] == ["plan", "plan", "destroy"]
    assert all("lambda_artifacts_dir=/zips" in call["argv"] for call in later)
    assert all("-detailed-exitcode" in call["argv"] for call in later[:2])


def test_a_plan_error_is_not_mistaken_for_changes(
    fake_terraform: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = stack.StackPaths(tmp_path / "state")
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "1")

    with pytest.raises(stack.TerraformError, match="terraform plan exited with 1"):
        plan_has_changes("http://127.0.0.1:4999", paths)


def test_failed_up_stops_the_emulator_and_keeps_no_state(
    fake_terraform: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = stack.StackPaths(tmp_path / "state")
    monkeypatch.setenv("FAKE_TF_FAIL_APPLY", "1")

    with pytest.raises(stack.TerraformError, match="creating Kinesis Stream: boom"):
        stack.up(paths, 0)

    assert not paths.pid_file.exists()
    assert not paths.tfstate.exists()
    assert stack.running_endpoint(paths) is None


def test_read_outputs_without_a_stack_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make up"):
        stack.read_outputs(stack.StackPaths(tmp_path))


def test_down_without_a_running_emulator_clears_stale_state(tmp_path: Path) -> None:
    paths = stack.StackPaths(tmp_path)
    for stale in (paths.tfstate, paths.outputs_file, paths.pid_file):
        stale.write_text("99999999\n")

    stack.down(paths)

    assert not any(path.exists() for path in (paths.tfstate, paths.outputs_file, paths.pid_file))


def test_running_endpoint_is_found_from_the_pid_file(tmp_path: Path) -> None:
    paths = stack.StackPaths(tmp_path)
    handle = start_emulator(0, pid_file=paths.pid_file)
    try:
        assert stack.running_endpoint(paths) == handle.endpoint
    finally:
        stop_emulator(handle, pid_file=paths.pid_file)
    assert stack.running_endpoint(paths) is None


def stack_leftovers(endpoint: str) -> list[str]:
    """What of the local stack (names `trendstream-local-*`) the emulator still holds."""
    environment = emulator_environment(endpoint)

    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=environment["AWS_DEFAULT_REGION"],
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        )

    names = [
        *client("kinesis").list_streams()["StreamNames"],
        *client("dynamodb").list_tables()["TableNames"],
        *(f["FunctionName"] for f in client("lambda").list_functions()["Functions"]),
        *(b["Name"] for b in client("s3").list_buckets()["Buckets"]),
        *client("firehose").list_delivery_streams()["DeliveryStreamNames"],
        *(q.rsplit("/", 1)[1] for q in client("sqs").list_queues().get("QueueUrls", [])),
    ]
    return [name for name in names if name.startswith("trendstream-local-")]


def lambda_artifacts(tmp_path: Path) -> dict[str, str]:
    """Use `make build`'s zips when present; otherwise stand-ins (this test never runs them)."""
    build = stack.REPO_ROOT / "build"
    if all((build / name).exists() for name in LAMBDA_ZIPS):
        return {}
    for name in LAMBDA_ZIPS:
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    return {"lambda_artifacts_dir": str(tmp_path)}


@pytest.mark.terraform
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_up_plans_no_changes_and_down_leaves_nothing(tmp_path: Path) -> None:
    paths = stack.StackPaths(tmp_path / "state")
    try:
        outputs = stack.up(paths, 0, extra_vars=lambda_artifacts(tmp_path))
        endpoint = stack.running_endpoint(paths)
        assert endpoint is not None
        pid = int(paths.pid_file.read_text())

        assert outputs.keys() >= CONTRACT_OUTPUTS
        assert outputs["stream_name"] == "trendstream-local-tweets"
        assert outputs["table_name"] == "trendstream-local-EventData"
        assert outputs["consumer_function_name"] == "trendstream-local-consumer"
        assert stack.read_outputs(paths) == outputs
        assert plan_has_changes(endpoint, paths) is False

        stack.destroy_stack(endpoint, paths)
        assert stack_leftovers(endpoint) == []
    finally:
        stack.down(paths)

    assert not Path(f"/proc/{pid}").exists()
    leftovers = {path.name for path in paths.state_dir.iterdir()}
    assert leftovers <= {"emulator.log", "terraform.log"}
    assert paths.terraform_log.stat().st_size > 0
