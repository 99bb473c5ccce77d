data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name          = "${var.name_prefix}-${var.environment}"
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  force_destroy = var.force_destroy || var.environment == "local"
  artifacts_dir = coalesce(var.lambda_artifacts_dir, "${path.root}/../build")

  tags = merge(
    {
      Project     = "trendstream"
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.tags,
  )

  function_names = {
    producer    = "${local.name}-producer"
    consumer    = "${local.name}-consumer"
    transformer = "${local.name}-firehose-transformer"
  }

  powertools_environment = {
    POWERTOOLS_METRICS_NAMESPACE = "trendstream"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }

  # Comprehend has no resource-level permissions: "*" is the only resource AWS accepts. The grant
  # exists only when the stack is configured to use Comprehend.
  comprehend_statements = var.sentiment_engine == "comprehend" ? [
    {
      sid       = "ScoreSentimentWithComprehend"
      actions   = ["comprehend:BatchDetectSentiment"]
      resources = ["*"]
    },
  ] : []
}

module "kms" {
  source = "./modules/kms"

  alias                   = local.name
  description             = "Encrypts the ${local.name} stream, table, lake, queues, topic, parameters and logs."
  account_id              = local.account_id
  partition               = local.partition
  region                  = local.region
  log_group_name_prefixes = ["/aws/lambda/${local.name}-", "/aws/kinesisfirehose/${local.name}-"]
  tags                    = { Component = "kms" }
}

module "stream" {
  source = "./modules/stream"

  name            = "${local.name}-tweets"
  stream_mode     = var.stream_mode
  shard_count     = var.stream_shard_count
  retention_hours = var.stream_retention_hours
  kms_key_arn     = module.kms.key_arn
  tags            = { Component = "stream" }
}

module "event_table" {
  source = "./modules/event_table"

  name                = "${local.name}-EventData"
  kms_key_arn         = module.kms.key_arn
  deletion_protection = !local.force_destroy
  tags                = { Component = "event-table" }
}

module "lake" {
  source = "./modules/lake"

  bucket_name                       = "${local.name}-lake-${local.account_id}"
  kms_key_arn                       = module.kms.key_arn
  force_destroy                     = local.force_destroy
  error_retention_days              = var.error_retention_days
  quarantine_retention_days         = var.quarantine_retention_days
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  glue_database_name                = replace("${local.name}_lake", "-", "_")
  glue_table_name                   = "tweets"
  athena_workgroup_name             = local.name
  tags                              = { Component = "lake" }
}

module "secrets" {
  source = "./modules/secrets"

  name_prefix = var.twitter_ssm_prefix
  placeholder = var.twitter_secret_placeholder
  kms_key_arn = module.kms.key_arn
  tags        = { Component = "secrets" }
}

module "producer" {
  source = "./modules/function"

  function_name            = local.function_names.producer
  description              = "Reads trending topics and their recent tweets from the X API and puts them on the stream."
  artifact_path            = "${local.artifacts_dir}/producer.zip"
  timeout_seconds          = 120
  memory_mb                = 256
  create_dead_letter_queue = true
  # One run at a time: overlapping scheduled runs would fetch and put the same tweets twice.
  reserved_concurrent_executions = 1
  kms_key_arn                    = module.kms.key_arn
  log_retention_days             = var.log_retention_days
  account_id                     = local.account_id
  tags                           = { Component = "producer" }

  environment_variables = merge(local.powertools_environment, {
    POWERTOOLS_SERVICE_NAME = "producer"
    STREAM_NAME             = module.stream.stream_name
    TABLE_NAME              = module.event_table.table_name
    TWEET_SOURCE            = var.tweet_source
    TWITTER_SSM_PREFIX      = var.twitter_ssm_prefix
    SENTIMENT_ENGINE        = var.sentiment_engine
  })

  policy_statements = concat([
    {
      sid       = "PutTweetsOnStream"
      actions   = ["kinesis:PutRecords"]
      resources = [module.stream.stream_arn]
    },
    {
      # Writing to a KMS-encrypted stream needs a data key.
      sid       = "EncryptStreamRecords"
      actions   = ["kms:GenerateDataKey"]
      resources = [module.kms.key_arn]
    },
    {
      sid       = "ReadXApiCredentials"
      actions   = ["ssm:GetParameter", "ssm:GetParameters"]
      resources = values(module.secrets.parameter_arns)
    },
    {
      sid       = "CheckpointSinceIds"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [module.event_table.table_arn]
    },
  ], local.comprehend_statements)
}

module "consumer" {
  source = "./modules/function"

  function_name      = local.function_names.consumer
  description        = "Writes tweets and per-minute topic statistics from the stream to DynamoDB."
  artifact_path      = "${local.artifacts_dir}/consumer.zip"
  timeout_seconds    = 60
  memory_mb          = 512
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  account_id         = local.account_id
  tags               = { Component = "consumer" }

  environment_variables = merge(local.powertools_environment, {
    POWERTOOLS_SERVICE_NAME = "consumer"
    TABLE_NAME              = module.event_table.table_name
    LAKE_BUCKET             = module.lake.bucket_name
    SENTIMENT_ENGINE        = var.sentiment_engine
    TTL_DAYS                = tostring(var.ttl_days)
  })

  policy_statements = concat([
    {
      # What the Kinesis event source mapping reads with the function's role.
      sid = "ReadStreamForEventSourceMapping"
      actions = [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ]
      resources = [module.stream.stream_arn]
    },
    {
      sid = "WriteEventData"
      actions = [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:TransactWriteItems",
        "dynamodb:UpdateItem",
      ]
      resources = [module.event_table.table_arn]
    },
    {
      sid       = "QuarantineUnprocessableRecords"
      actions   = ["s3:PutObject"]
      resources = ["${module.lake.bucket_arn}/quarantine/*"]
    },
    {
      sid       = "SendGivenUpBatchesToOnFailureQueue"
      actions   = ["sqs:SendMessage"]
      resources = [module.consumer_trigger.on_failure_queue_arn]
    },
    {
      # Quarantine objects (SSE-KMS) and on-failure messages (KMS queue) need a data key.
      sid       = "EncryptQuarantineAndFailures"
      actions   = ["kms:GenerateDataKey"]
      resources = [module.kms.key_arn]
    },
  ], local.comprehend_statements)
}

module "transformer" {
  source = "./modules/function"

  function_name      = local.function_names.transformer
  description        = "Flattens stream records into lake rows for Firehose."
  artifact_path      = "${local.artifacts_dir}/firehose_transformer.zip"
  timeout_seconds    = 60
  memory_mb          = 256
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  account_id         = local.account_id
  tags               = { Component = "transformer" }

  environment_variables = merge(local.powertools_environment, {
    POWERTOOLS_SERVICE_NAME = "firehose-transformer"
    SENTIMENT_ENGINE        = var.sentiment_engine
  })

  policy_statements = local.comprehend_statements
}

module "consumer_trigger" {
  source = "./modules/consumer_trigger"

  name                            = local.function_names.consumer
  stream_arn                      = module.stream.stream_arn
  function_arn                    = module.consumer.function_arn
  kms_key_arn                     = module.kms.key_arn
  starting_position               = var.consumer_starting_position
  batch_size                      = var.consumer_batch_size
  maximum_batching_window_seconds = var.consumer_batching_window_seconds
  parallelization_factor          = var.consumer_parallelization_factor
  bisect_batch_on_function_error  = var.consumer_bisect_batch_on_function_error
  maximum_retry_attempts          = var.consumer_maximum_retry_attempts
  maximum_record_age_seconds      = var.consumer_maximum_record_age_seconds
  tags                            = { Component = "consumer" }
}

module "delivery" {
  source = "./modules/delivery"

  name                       = "${local.name}-lake-delivery"
  source_stream_arn          = module.stream.stream_arn
  bucket_arn                 = module.lake.bucket_arn
  transformer_function_arn   = module.transformer.function_arn
  kms_key_arn                = module.kms.key_arn
  buffering_size_mb          = var.firehose_buffering_size_mb
  buffering_interval_seconds = var.firehose_buffering_interval_seconds
  compression_format         = var.lake_compression
  log_retention_days         = var.log_retention_days
  account_id                 = local.account_id
  tags                       = { Component = "delivery" }
}

module "schedule" {
  source = "./modules/schedule"

  name                = "${local.name}-producer-schedule"
  description         = "Runs ${local.function_names.producer} on ${var.schedule_expression}."
  schedule_expression = var.schedule_expression
  function_name       = module.producer.function_name
  function_arn        = module.producer.function_arn
  tags                = { Component = "schedule" }
}

module "alarms" {
  source = "./modules/alarms"

  name                   = local.name
  kms_key_arn            = module.kms.key_arn
  alarm_email            = var.alarm_email
  consumer_function_name = module.consumer.function_name
  delivery_stream_name   = module.delivery.delivery_stream_name

  function_names = {
    producer    = module.producer.function_name
    consumer    = module.consumer.function_name
    transformer = module.transformer.function_name
  }

  queue_names = {
    consumer-on-failure = module.consumer_trigger.on_failure_queue_name
    producer-dlq        = module.producer.dead_letter_queue_name
  }

  iterator_age_threshold_ms = var.iterator_age_alarm_threshold_ms
  # Records legitimately wait one buffering interval; alarm well after that.
  data_freshness_threshold_seconds = max(900, 2 * var.firehose_buffering_interval_seconds)
  tags                             = { Component = "alarms" }
}
