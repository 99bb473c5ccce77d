output "table_name" {
  description = "Name of the DynamoDB table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB table."
  value       = aws_dynamodb_table.this.arn
}

output "billing_mode" {
  description = "The table's billing mode."
  value       = aws_dynamodb_table.this.billing_mode
}

output "autoscaling_policy_arns" {
  description = "Target tracking policies on reads and writes (empty with on-demand billing)."
  value       = { for key, policy in aws_appautoscaling_policy.this : key => policy.arn }
}
