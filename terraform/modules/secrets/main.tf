# The value is write-only: Terraform sends the placeholder once and never stores it, nor the real
# secret the operator puts later with `aws ssm put-parameter --overwrite`, in its state. A refresh
# therefore cannot pull a secret into the state, and no plan reverts the operator's value.
resource "aws_ssm_parameter" "this" {
  for_each = toset(var.parameter_names)

  name             = "${var.name_prefix}${each.key}"
  description      = "X API credential ${each.key}; ${var.placeholder} means not set yet."
  type             = "SecureString"
  key_id           = var.kms_key_arn
  value_wo         = var.placeholder
  value_wo_version = 1
  tags             = var.tags

  # Belt and braces for anyone switching back to `value`: the operator owns the secret.
  lifecycle {
    ignore_changes = [value]
  }
}
