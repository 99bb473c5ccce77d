output "table_name" {
  description = "Name of the DynamoDB table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB table."
  value       = aws_dynamodb_table.this.arn
}

output "activity_index_arn" {
  description = "ARN of the sparse index listing the topics active in each hour."
  value       = "${aws_dynamodb_table.this.arn}/index/${var.activity_index_name}"
}

output "table" {
  description = "The table resource (key schema, indexes) for review and tests."
  value       = aws_dynamodb_table.this
}

output "billing_mode" {
  description = "The table's billing mode."
  value       = aws_dynamodb_table.this.billing_mode
}

output "autoscaling_policy_arns" {
  description = "Target tracking policies on reads and writes (empty with on-demand billing)."
  value       = { for key, policy in aws_appautoscaling_policy.this : key => policy.arn }
}
