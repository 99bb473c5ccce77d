output "on_failure_queue_arn" {
  description = "ARN of the queue receiving batches the consumer gave up on."
  value       = aws_sqs_queue.on_failure.arn
}

output "on_failure_queue_url" {
  description = "URL of the queue receiving batches the consumer gave up on."
  value       = aws_sqs_queue.on_failure.url
}

output "on_failure_queue_name" {
  description = "Name of the on-failure queue."
  value       = aws_sqs_queue.on_failure.name
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis to consumer event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}
