# Renders every IAM policy the stack creates (identity, key, bucket and queue policies) against
# the mocked provider, for `make lint`'s IAM linter (scripts/iam_lint.py reads the state that
# `terraform test -json -verbose` prints). No assertion of its own: the linter is the check.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  environment          = "lint"
  lambda_artifacts_dir = "tests/fixtures/lambda"
  alarm_email          = "oncall@example.com"
}

run "render" {
  command = apply
}
