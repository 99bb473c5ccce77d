output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.this.name
}

output "policy_document" {
  description = "JSON of the function's inline policy, for review and tests."
  value       = aws_iam_role_policy.this.policy
}

output "log_group_name" {
  description = "Log group the function writes to."
  value       = aws_cloudwatch_log_group.this.name
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue, or null when none was created."
  value       = one(aws_sqs_queue.dead_letter[*].arn)
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue, or null when none was created."
  value       = one(aws_sqs_queue.dead_letter[*].name)
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue, or null when none was created."
  value       = one(aws_sqs_queue.dead_letter[*].url)
}

output "environment_variables" {
  description = "Environment the function runs with."
  value       = aws_lambda_function.this.environment[0].variables
}

output "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function; -1 means none."
  value       = aws_lambda_function.this.reserved_concurrent_executions
}

output "async_invocation" {
  description = "The asynchronous invocation settings applied (retries, maximum event age); null when Lambda's defaults apply."
  value = one([
    for config in aws_lambda_function_event_invoke_config.this : {
      maximum_retry_attempts       = config.maximum_retry_attempts
      maximum_event_age_in_seconds = config.maximum_event_age_in_seconds
    }
  ])
}

output "environment_bytes" {
  description = "Size of the function's environment as JSON, in bytes (Lambda's limit is 4096)."
  value       = local.environment_bytes
}
