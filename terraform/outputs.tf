output "stream_name" {
  description = "Kinesis data stream the producer writes (STREAM_NAME)."
  value       = module.stream.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = module.stream.stream_arn
}

output "table_name" {
  description = "DynamoDB EventData table (TABLE_NAME)."
  value       = module.event_table.table_name
}

output "lake_bucket" {
  description = "S3 bucket of the lake (LAKE_BUCKET)."
  value       = module.lake.bucket_name
}

output "delivery_stream_name" {
  description = "Firehose delivery stream from the Kinesis stream to the lake."
  value       = module.delivery.delivery_stream_name
}

output "producer_function_name" {
  description = "Producer Lambda function."
  value       = module.producer.function_name
}

output "consumer_function_name" {
  description = "Consumer Lambda function."
  value       = module.consumer.function_name
}

output "transformer_function_name" {
  description = "Firehose transformer Lambda function."
  value       = module.transformer.function_name
}

output "athena_workgroup" {
  description = "Athena workgroup for lake queries."
  value       = module.lake.athena_workgroup_name
}

output "glue_database" {
  description = "Glue database of the lake."
  value       = module.lake.glue_database_name
}

output "glue_table" {
  description = "Glue table over tweets/ (partition projection)."
  value       = module.lake.glue_table_name
}

output "athena_named_query_ids" {
  description = "Athena named query ids by query name."
  value       = module.lake.named_query_ids
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = module.alarms.topic_arn
}

output "on_failure_queue_url" {
  description = "SQS queue receiving batches the consumer gave up on."
  value       = module.consumer_trigger.on_failure_queue_url
}

output "producer_dead_letter_queue_url" {
  description = "SQS queue receiving failed asynchronous producer invocations."
  value       = module.producer.dead_letter_queue_url
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis to consumer event source mapping."
  value       = module.consumer_trigger.event_source_mapping_uuid
}

output "kms_key_arn" {
  description = "Customer managed key of the stack."
  value       = module.kms.key_arn
}

output "schedule_rule_name" {
  description = "EventBridge rule that runs the producer."
  value       = module.schedule.rule_name
}

output "twitter_parameter_names" {
  description = "SSM SecureString parameters to set with the X API credentials, by credential name."
  value       = module.secrets.parameter_names
}

output "twitter_secret_placeholder" {
  description = "Value a credential parameter holds until the operator sets it."
  value       = module.secrets.placeholder
}

# Read side ----------------------------------------------------------------------------------

output "api_url" {
  description = "Read API: the live page at /, the API under /api/, its OpenAPI schema at /swagger."
  value       = module.api.invoke_url
}

output "api_id" {
  description = "Id of the read API (HTTP API); the local runtime reads its routes."
  value       = module.api.api_id
}

output "api_function_name" {
  description = "Read API Lambda function."
  value       = module.api_function.function_name
}

output "dashboard_url" {
  description = "CloudWatch operations dashboard."
  value       = module.dashboard.dashboard_url
}

output "region" {
  description = "Region of the stack: where the operator sets the credentials."
  value       = local.region
}

output "environment" {
  description = "Environment of the stack (part of every name)."
  value       = var.environment
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE): one per environment, read by the stack's alarms and dashboard."
  value       = local.powertools_environment.POWERTOOLS_METRICS_NAMESPACE
}

output "hot_topic_key_parts" {
  description = "Hot topics and the partition keys their items spread over (readers query every part)."
  value       = var.hot_topic_key_parts
}

output "table_billing_mode" {
  description = "The EventData table's billing mode."
  value       = module.event_table.billing_mode
}
