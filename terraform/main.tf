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

  # One path per environment: two environments in one account never share a parameter.
  twitter_ssm_prefix = coalesce(var.twitter_ssm_prefix, "/${var.name_prefix}/${var.environment}/twitter/")

  # The producer's timeout; the schedule validation keeps rate() periods at 5 minutes or more, so
  # a run is over long before the next one starts (no reserved concurrency needed for that).
  producer_timeout_seconds = 120

  # A scheduled run, however it is retried, starts and ends within its own schedule period:
  # EventBridge retries handing it to Lambda for at most schedule_retry_seconds (its minimum),
  # then it waits in Lambda's asynchronous queue (and between Lambda's retries) at most
  # producer_event_age_seconds, then it runs at most the timeout. Their sum is the period.
  # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
  schedule_retry_seconds     = 60
  producer_event_age_seconds = min(21600, local.schedule_period_seconds - local.schedule_retry_seconds - local.producer_timeout_seconds)

  # Where Amazon Comprehend exists ("Amazon Comprehend endpoints and quotas",
  # https://docs.aws.amazon.com/general/latest/gr/comprehend.html); sentiment_engine = comprehend
  # is refused elsewhere, where every call would fail.
  comprehend_regions = [
    "us-east-1", "us-east-2", "us-west-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
    "us-gov-west-1",
  ]

  # Seconds between scheduled runs (one alarm period per run); cron schedules count as hourly.
  schedule_rate = regexall("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression)
  schedule_period_seconds = length(local.schedule_rate) == 0 ? 3600 : (
    tonumber(local.schedule_rate[0][0]) *
    lookup({ minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }, local.schedule_rate[0][1])
  )

  # The replay dataset is demo data, never in the producer zip. On AWS (tweet_source = "replay")
  # the stack uploads it to the lake bucket and the producer reads it from there. The emulator
  # stack's functions run on this machine, so they read the directory in place (no upload).
  replay_dataset_dir    = abspath("${path.root}/../datasets/replay")
  replay_dataset_prefix = "replay/"
  replay_from_s3        = var.tweet_source == "replay" && var.local_endpoint == null
  replay_dataset_files = local.replay_from_s3 ? toset([
    for file in fileset(local.replay_dataset_dir, "**/*.json") : file
  ]) : toset([])

  replay_environment = var.tweet_source != "replay" ? {} : {
    REPLAY_DATASET_URI = local.replay_from_s3 ? "s3://${module.lake.bucket_name}/${local.replay_dataset_prefix}" : local.replay_dataset_dir
  }

  replay_statements = local.replay_from_s3 ? [
    {
      sid        = "ReadReplayDataset"
      actions    = ["s3:GetObject"]
      resources  = ["${module.lake.bucket_arn}/${local.replay_dataset_prefix}*"]
      conditions = []
    },
    {
      sid       = "DecryptReplayDataset"
      actions   = ["kms:Decrypt"]
      resources = [module.kms.key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.region}.amazonaws.com"] },
      ]
    },
  ] : []

  # The EventData table is encrypted with the stack key, and DynamoDB decrypts the table key with
  # the caller's own permissions ("How Amazon DynamoDB uses AWS KMS": Decrypt, as the principal
  # who accesses the table, with the table name and account as encryption context). Every role
  # that reads or writes the table needs exactly this, through DynamoDB only, for this table only.
  event_table_key_statement = {
    sid       = "DecryptEventDataTableKey"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.key_arn]
    conditions = [
      { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${local.region}.amazonaws.com"] },
      { test = "StringEquals", variable = "kms:CallerAccount", values = [local.account_id] },
      { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = [module.event_table.table_name] },
    ]
  }

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

  # The rule for a topic name (src/tweet_record/topics.py, TOPIC_NAME_PATTERN; a test holds the
  # two equal and runs both on the same strings): 1 to 256 characters, one line, no control
  # character, no comma, no space at either end. Every search query is a topic.
  topic_name_pattern = "^[^\\x00-\\x20\\x7f-\\xa0,\u2028\u2029](?:[^\\x00-\\x1f\\x7f-\\x9f,\u2028\u2029]{0,254}[^\\x00-\\x20\\x7f-\\xa0,\u2028\u2029])?$"

  # One CloudWatch namespace per stack: namespaces are isolated from each other, so no other
  # environment's datapoints can reach this stack's alarms and dashboard (docs/data-model.md).
  powertools_environment = {
    POWERTOOLS_METRICS_NAMESPACE = "${var.name_prefix}/${var.environment}"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }

  # Comprehend has no resource-level permissions: "*" is the only resource AWS accepts. The grant
  # exists only when the stack is configured to use Comprehend.
  comprehend_statements = var.sentiment_engine == "comprehend" ? [
    {
      sid        = "ScoreSentimentWithComprehend"
      actions    = ["comprehend:BatchDetectSentiment"]
      resources  = ["*"]
      conditions = []
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
  log_group_name_prefixes = ["/aws/lambda/${local.name}-", "/aws/kinesisfirehose/${local.name}-", "/aws/apigateway/${local.name}-"]
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
  billing_mode        = var.table_billing_mode
  autoscaling         = var.table_autoscaling
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
  storage_format                    = var.lake_format
  athena_workgroup_name             = local.name
  tags                              = { Component = "lake" }
}

module "secrets" {
  source = "./modules/secrets"

  name_prefix = local.twitter_ssm_prefix
  placeholder = var.twitter_secret_placeholder
  kms_key_arn = module.kms.key_arn
  tags        = { Component = "secrets" }
}

module "producer" {
  source = "./modules/function"

  function_name            = local.function_names.producer
  description              = "Reads trending topics and their recent tweets from the X API and puts them on the stream."
  artifact_path            = "${local.artifacts_dir}/producer.zip"
  timeout_seconds          = local.producer_timeout_seconds
  memory_mb                = 256
  create_dead_letter_queue = true
  # No reservation by default: runs cannot overlap because the timeout is far below the schedule
  # period, and the since_id checkpoints only ever move forward (a DynamoDB condition).
  reserved_concurrent_executions = coalesce(var.producer_reserved_concurrency, -1)
  # Lambda's two retries stay, but only while a retried run still ends before the next one.
  async_invocation = {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = local.producer_event_age_seconds
  }
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  account_id         = local.account_id
  region             = local.region
  tags               = { Component = "producer" }

  environment_variables = merge(local.powertools_environment, local.replay_environment, {
    POWERTOOLS_SERVICE_NAME    = "producer"
    STREAM_NAME                = module.stream.stream_name
    TABLE_NAME                 = module.event_table.table_name
    TWEET_SOURCE               = var.tweet_source
    TWITTER_SSM_PREFIX         = local.twitter_ssm_prefix
    TWITTER_SECRET_PLACEHOLDER = var.twitter_secret_placeholder
    SEARCH_QUERIES             = jsonencode(var.search_queries)
    TREND_WOEIDS               = length(var.trend_woeids) == 0 ? "none" : join(",", var.trend_woeids)
    SENTIMENT_ENGINE           = var.sentiment_engine
  })

  policy_statements = concat([
    {
      sid        = "PutTweetsOnStream"
      actions    = ["kinesis:PutRecords"]
      resources  = [module.stream.stream_arn]
      conditions = []
    },
    {
      # Writing to a KMS-encrypted stream needs a data key, asked for by Kinesis only.
      sid       = "EncryptStreamRecords"
      actions   = ["kms:GenerateDataKey"]
      resources = [module.kms.key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["kinesis.${local.region}.amazonaws.com"] },
      ]
    },
    {
      sid        = "ReadXApiCredentials"
      actions    = ["ssm:GetParameter", "ssm:GetParameters"]
      resources  = values(module.secrets.parameter_arns)
      conditions = []
    },
    {
      # GetParameters WithDecryption: SSM decrypts the SecureString values with the stack key.
      sid       = "DecryptXApiCredentials"
      actions   = ["kms:Decrypt"]
      resources = [module.kms.key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] },
      ]
    },
    {
      # GetItem reads a checkpoint; UpdateItem moves it (conditionally). Nothing else is used.
      sid        = "CheckpointSinceIds"
      actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources  = [module.event_table.table_arn]
      conditions = []
    },
    local.event_table_key_statement,
  ], local.replay_statements, local.comprehend_statements)
}

module "consumer" {
  source = "./modules/function"

  function_name      = local.function_names.consumer
  description        = "Writes tweets and per-minute topic statistics from the stream to DynamoDB."
  artifact_path      = "${local.artifacts_dir}/consumer.zip"
  timeout_seconds    = 60
  memory_mb          = var.consumer_memory_mb
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  account_id         = local.account_id
  region             = local.region
  tags               = { Component = "consumer" }

  environment_variables = merge(local.powertools_environment, {
    POWERTOOLS_SERVICE_NAME = "consumer"
    TABLE_NAME              = module.event_table.table_name
    LAKE_BUCKET             = module.lake.bucket_name
    SENTIMENT_ENGINE        = var.sentiment_engine
    TTL_DAYS                = tostring(var.ttl_days)
    HOT_TOPIC_KEY_PARTS     = jsonencode(var.hot_topic_key_parts)
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
      resources  = [module.stream.stream_arn]
      conditions = []
    },
    {
      # The mapping reads the KMS-encrypted stream with this role: Kinesis decrypts for it.
      sid       = "DecryptStreamRecords"
      actions   = ["kms:Decrypt"]
      resources = [module.kms.key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["kinesis.${local.region}.amazonaws.com"] },
      ]
    },
    {
      # A conditional PutItem per new tweet item and an UpdateItem per (topic, minute) stats item;
      # no reads, no transactions, no batch writes.
      sid        = "WriteEventData"
      actions    = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources  = [module.event_table.table_arn]
      conditions = []
    },
    local.event_table_key_statement,
    {
      sid        = "QuarantineUnprocessableRecords"
      actions    = ["s3:PutObject"]
      resources  = ["${module.lake.bucket_arn}/${module.lake.prefixes.quarantine}*"]
      conditions = []
    },
    {
      sid        = "SendGivenUpBatchesToOnFailureQueue"
      actions    = ["sqs:SendMessage"]
      resources  = [module.consumer_trigger.on_failure_queue_arn]
      conditions = []
    },
    {
      # Quarantine objects (SSE-KMS) and on-failure messages (KMS queue) need a data key, asked
      # for by S3 and SQS only.
      sid       = "EncryptQuarantineAndFailures"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [module.kms.key_arn]
      conditions = [
        {
          test     = "StringEquals"
          variable = "kms:ViaService"
          values   = ["s3.${local.region}.amazonaws.com", "sqs.${local.region}.amazonaws.com"]
        },
      ]
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
  region             = local.region
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
  prefixes                   = module.lake.prefixes
  transformer_function_arn   = module.transformer.function_arn
  kms_key_arn                = module.kms.key_arn
  buffering_size_mb          = var.firehose_buffering_size_mb
  buffering_interval_seconds = var.firehose_buffering_interval_seconds
  compression_format         = var.lake_format == "ndjson" ? var.lake_compression : "UNCOMPRESSED"
  parquet_conversion = var.lake_format == "parquet" ? {
    database_name = module.lake.glue_database_name
    table_name    = module.lake.glue_table_name
    compression   = var.lake_compression
  } : null
  log_retention_days = var.log_retention_days
  account_id         = local.account_id
  region             = local.region
  tags               = { Component = "delivery" }
}

module "schedule" {
  source = "./modules/schedule"

  name                      = "${local.name}-producer-schedule"
  description               = "Runs ${local.function_names.producer} on ${var.schedule_expression}."
  schedule_expression       = var.schedule_expression
  maximum_event_age_seconds = local.schedule_retry_seconds
  function_name             = module.producer.function_name
  function_arn              = module.producer.function_arn
  tags                      = { Component = "schedule" }
}

module "alarms" {
  source = "./modules/alarms"

  name                     = local.name
  kms_key_arn              = module.kms.key_arn
  alarm_email              = var.alarm_email
  consumer_function_name   = module.consumer.function_name
  producer_function_name   = module.producer.function_name
  metrics_namespace        = local.powertools_environment.POWERTOOLS_METRICS_NAMESPACE
  producer_service_name    = "producer"
  producer_period_seconds  = local.schedule_period_seconds
  producer_idle_alarm_runs = var.producer_idle_alarm_runs
  delivery_stream_name     = module.delivery.delivery_stream_name
  stream_name              = module.stream.stream_name

  function_names = {
    producer    = module.producer.function_name
    consumer    = module.consumer.function_name
    transformer = module.transformer.function_name
    api         = module.api_function.function_name
  }

  http_api = { id = module.api.api_id, stage = module.api.stage_name }

  queue_names = {
    consumer-on-failure = module.consumer_trigger.on_failure_queue_name
    producer-dlq        = module.producer.dead_letter_queue_name
  }

  iterator_age_threshold_ms = var.iterator_age_alarm_threshold_ms
  # Records legitimately wait one buffering interval; alarm well after that.
  data_freshness_threshold_seconds = max(900, 2 * var.firehose_buffering_interval_seconds)
  tags                             = { Component = "alarms" }
}

# ---------------------------------------------------------------------------------------------
# Read side: the API function, its HTTP API (the live page at /) and the operations dashboard.
# ---------------------------------------------------------------------------------------------

module "api_function" {
  source = "./modules/function"

  function_name                  = "${local.name}-api"
  description                    = "Answers the read API and serves the live page from the EventData table."
  reserved_concurrent_executions = coalesce(var.api_reserved_concurrency, -1)
  artifact_path                  = "${local.artifacts_dir}/api.zip"
  timeout_seconds                = 20 # a DynamoDB call's worst case, 3 x (1 + 3) s + backoff, fits
  memory_mb                      = 512
  kms_key_arn                    = module.kms.key_arn
  log_retention_days             = var.log_retention_days
  account_id                     = local.account_id
  region                         = local.region
  tags                           = { Component = "api" }

  environment_variables = merge(local.powertools_environment, {
    POWERTOOLS_SERVICE_NAME = "api"
    TABLE_NAME              = module.event_table.table_name
    TOPICS                  = join(",", var.api_topics)
    HOT_TOPIC_KEY_PARTS     = jsonencode(var.hot_topic_key_parts)
  })

  policy_statements = [
    {
      sid        = "QueryEventData"
      actions    = ["dynamodb:Query"]
      resources  = [module.event_table.table_arn, module.event_table.activity_index_arn]
      conditions = []
    },
    local.event_table_key_statement,
  ]
}

module "api" {
  source = "./modules/api"

  name                   = "${local.name}-api"
  description            = "trendstream read API and live page."
  function_name          = module.api_function.function_name
  function_arn           = module.api_function.function_arn
  cors_allow_origins     = var.api_cors_allow_origins
  throttling_rate_limit  = var.api_throttling_rate_limit
  throttling_burst_limit = var.api_throttling_burst_limit
  authorization          = var.api_authorization
  kms_key_arn            = module.kms.key_arn
  log_retention_days     = var.log_retention_days
  tags                   = { Component = "api" }
}

module "dashboard" {
  source = "./modules/dashboard"

  name                 = local.name
  region               = local.region
  stream_name          = module.stream.stream_name
  delivery_stream_name = module.delivery.delivery_stream_name
  api_id               = module.api.api_id
  metrics_namespace    = local.powertools_environment.POWERTOOLS_METRICS_NAMESPACE

  function_names = {
    producer    = module.producer.function_name
    consumer    = module.consumer.function_name
    transformer = module.transformer.function_name
    api         = module.api_function.function_name
  }
}

resource "aws_s3_object" "replay_dataset" {
  for_each = local.replay_dataset_files

  bucket       = module.lake.bucket_name
  key          = "${local.replay_dataset_prefix}${each.value}"
  source       = "${local.replay_dataset_dir}/${each.value}"
  source_hash  = filemd5("${local.replay_dataset_dir}/${each.value}")
  content_type = "application/json"
  tags         = { Component = "replay-dataset" }
}
