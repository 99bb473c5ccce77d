# The value is write-only: Terraform sends the placeholder once and never stores it, nor the real
# secret the operator puts later with `aws ssm put-parameter --overwrite`, in its state. A refresh
# therefore cannot pull a secret into the state, and no plan reverts the operator's value.
resource "aws_ssm_parameter" "this" {
  for_each = toset(var.parameter_names)

  name             = "${var.name_prefix}${each.key}"
  description      = "X API credential ${each.key} of the producer: set it as the README's deploy guide says."
  type             = "SecureString"
  key_id           = var.kms_key_arn
  value_wo         = var.placeholder
  value_wo_version = 1
  tags             = var.tags

  # Once created, the parameter is the operator's. SSM changes any of these arguments only with
  # a PutParameter that carries the value too (API_PutParameter: Value is required), and the
  # provider has none to send for a write-only value: an update would send an empty value, which
  # SSM refuses (or, with a new value_wo_version, the placeholder over the operator's secret).
  # Tags change through their own API and stay managed. A new key reaches the parameters when
  # the operator sets them again with the README's commands, which pass the stack's key.
  lifecycle {
    ignore_changes = [description, key_id, type, tier, allowed_pattern, data_type]
  }
}
