output "delivery_stream_name" {
  description = "Name of the Firehose delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "delivery_stream_arn" {
  description = "ARN of the Firehose delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "role_arn" {
  description = "ARN of the role Firehose assumes."
  value       = aws_iam_role.this.arn
}

output "policy_document" {
  description = "JSON of the Firehose role's inline policy, for review and tests."
  value       = aws_iam_role_policy.this.policy
}

output "log_group_name" {
  description = "Log group of delivery errors."
  value       = aws_cloudwatch_log_group.this.name
}
