resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.name}-on-failure"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn  = var.stream_arn
  function_name     = var.function_arn
  starting_position = var.starting_position

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  # Exactly-once stats need one batch in flight per shard (docs/data-model.md): scale by shards.
  parallelization_factor = 1

  # The consumer reports the records it could not process; the service retries from the first of
  # them, splits a failing batch to isolate a poison record, and gives up after bounded attempts
  # and age, sending the batch's coordinates to the on-failure queue instead of blocking the shard.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = var.bisect_batch_on_function_error
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }
}
