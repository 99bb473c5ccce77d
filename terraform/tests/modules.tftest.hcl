# Plan-time checks of each module on its own, against a mocked AWS provider: the settings that
# make the pipeline safe (poison-record isolation, encryption, public access, TLS, alarms, secrets).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  region      = "us-east-1"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "consumer_mapping_isolates_poison_records" {
  command = apply

  module {
    source = "./modules/consumer_trigger"
  }

  variables {
    name         = "ts-test-consumer"
    stream_arn   = "arn:aws:kinesis:us-east-1:123456789012:stream/ts-test-tweets"
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ts-test-consumer"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The consumer must report item failures so only failed records are retried."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error
    error_message = "Failing batches must be bisected to isolate poison records."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.maximum_retry_attempts >= 0 &&
      aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds >= 60
    )
    error_message = "Retries and record age must be bounded, or a poison record blocks its shard."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == aws_sqs_queue.on_failure.arn
    error_message = "Given-up batches must go to the on-failure queue."
  }

  assert {
    condition     = aws_sqs_queue.on_failure.kms_master_key_id == var.kms_key_arn
    error_message = "The on-failure queue must be encrypted with the stack key."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.starting_position == "LATEST"
    error_message = "A new mapping starts at LATEST unless told otherwise."
  }

  # ParallelizationFactor is the number of batches processed concurrently from each shard:
  # https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 1
    error_message = "Exactly-once stats need one batch in flight per shard (docs/data-model.md): ParallelizationFactor 1."
  }
}

run "lake_bucket_is_private_encrypted_and_tls_only" {
  command = apply

  module {
    source = "./modules/lake"
  }

  variables {
    bucket_name           = "ts-test-lake-123456789012"
    glue_database_name    = "ts_test_lake"
    athena_workgroup_name = "ts-test"
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      statement.Effect == "Deny" && statement.Principal == "*" &&
      statement.Condition == { Bool = { "aws:SecureTransport" = "false" } } &&
      toset(statement.Resource) == toset([aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"])
    ])
    error_message = "The bucket policy must deny every request made without TLS, on the bucket and its objects."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition = alltrue([
      for rule in aws_s3_bucket_server_side_encryption_configuration.this.rule :
      rule.bucket_key_enabled &&
      one(rule.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
      one(rule.apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    ])
    error_message = "Objects must be encrypted with the stack key, bucket key on."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "The lake bucket must be versioned."
  }

  assert {
    condition = toset([
      for rule in aws_s3_bucket_lifecycle_configuration.this.rule : rule.filter[0].prefix
      if length(rule.expiration) > 0
    ]) == toset(["errors/", "quarantine/", "athena-results/"])
    error_message = "errors/, quarantine/ and athena-results/ must expire."
  }

  assert {
    condition = anytrue([
      for rule in aws_s3_bucket_lifecycle_configuration.this.rule :
      length(rule.noncurrent_version_expiration) > 0 && length(rule.abort_incomplete_multipart_upload) > 0
    ])
    error_message = "Noncurrent versions and abandoned multipart uploads must be cleaned up."
  }
}

run "lake_table_uses_partition_projection" {
  command = apply

  module {
    source = "./modules/lake"
  }

  variables {
    bucket_name           = "ts-test-lake-123456789012"
    glue_database_name    = "ts_test_lake"
    athena_workgroup_name = "ts-test"
  }

  assert {
    condition = [for column in aws_glue_catalog_table.tweets.storage_descriptor[0].columns : column.name] == [
      "tweet_id", "created_at", "text", "lang", "topic", "topic_kind", "author_id", "author_username",
      "author_name", "author_followers", "hashtags", "mentions", "urls", "retweet_count",
      "reply_count", "like_count", "quote_count", "sentiment", "fetched_at",
    ]
    error_message = "The table columns must be the contract's lake columns, in order."
  }

  assert {
    condition = (
      aws_glue_catalog_table.tweets.storage_descriptor[0].ser_de_info[0].serialization_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" &&
      aws_glue_catalog_table.tweets.storage_descriptor[0].input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat" &&
      aws_glue_catalog_table.tweets.storage_descriptor[0].output_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat" &&
      aws_glue_catalog_table.tweets.parameters["classification"] == "parquet"
    )
    error_message = "By default the table must read Parquet, as Firehose's record format conversion writes it."
  }

  assert {
    condition     = [for key in aws_glue_catalog_table.tweets.partition_keys : key.name] == ["year", "month", "day", "hour"]
    error_message = "Partitions must be year/month/day/hour, as Firehose writes them."
  }

  assert {
    condition = (
      aws_glue_catalog_table.tweets.parameters["projection.enabled"] == "true" &&
      aws_glue_catalog_table.tweets.parameters["storage.location.template"] == "s3://ts-test-lake-123456789012/tweets/year=$${year}/month=$${month}/day=$${day}/hour=$${hour}/" &&
      aws_glue_catalog_table.tweets.parameters["projection.month.digits"] == "2" &&
      aws_glue_catalog_table.tweets.parameters["projection.hour.range"] == "0,23"
    )
    error_message = "Partition projection must be enabled and match Firehose's prefix layout."
  }

  assert {
    condition = (
      aws_athena_workgroup.this.configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this.configuration[0].result_configuration[0].output_location == "s3://ts-test-lake-123456789012/athena-results/" &&
      aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS"
    )
    error_message = "The workgroup must enforce KMS-encrypted results under athena-results/."
  }

  assert {
    condition = toset(keys(aws_athena_named_query.this)) == toset([
      "top-topics-last-hour", "sentiment-by-topic", "top-hashtags", "most-engaged-tweets",
    ])
    error_message = "The four named queries must exist."
  }

  assert {
    condition = alltrue([
      for query in aws_athena_named_query.this :
      strcontains(query.query, "concat(year, month, day, hour) >=") && query.workgroup == aws_athena_workgroup.this.id
    ])
    error_message = "Every named query must prune partitions and run in the stack's workgroup."
  }
}

run "alarms_notify_the_topic" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  variables {
    name                   = "ts-test"
    metrics_namespace      = "ts/test"
    consumer_function_name = "ts-test-consumer"
    delivery_stream_name   = "ts-test-lake-delivery"
    function_names         = { producer = "ts-test-producer", consumer = "ts-test-consumer" }
    queue_names            = { consumer-on-failure = "ts-test-consumer-on-failure" }
    http_api               = { id = "a1b2c3d4e5", stage = "$default" }
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.alarm_actions == toset([aws_sns_topic.this.arn]) && alarm.ok_actions == toset([aws_sns_topic.this.arn])
    ])
    error_message = "Every alarm must notify the topic when it fires and when it clears."
  }

  assert {
    condition = toset([for alarm in aws_cloudwatch_metric_alarm.this : "${alarm.namespace} ${alarm.metric_name}"]) == toset([
      "AWS/Lambda IteratorAge",
      "AWS/Lambda Errors",
      "AWS/Lambda Throttles",
      "AWS/SQS ApproximateNumberOfMessagesVisible",
      "AWS/Firehose DeliveryToS3.DataFreshness",
      "AWS/Firehose DeliveryToS3.Success",
      "AWS/ApiGateway 5xx",
    ])
    error_message = "Alarms must watch lag, errors, throttles, failure queues, delivery and the API."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["api-5xx"].dimensions == tomap({ ApiId = "a1b2c3d4e5", Stage = "$default" }) &&
      aws_cloudwatch_metric_alarm.this["api-5xx"].threshold == 0
    )
    error_message = "The API must alarm on any 5xx of its stage (HTTP API metric names and dimensions)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["delivery-success"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["delivery-success"].threshold == 1
    )
    error_message = "Delivery success must alarm below 1."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0 && aws_sns_topic.this.kms_master_key_id == var.kms_key_arn
    error_message = "No e-mail subscription without an address; the topic is encrypted."
  }
}

run "alarm_email_is_subscribed_when_given" {
  command = plan

  module {
    source = "./modules/alarms"
  }

  variables {
    name                   = "ts-test"
    metrics_namespace      = "ts/test"
    consumer_function_name = "ts-test-consumer"
    delivery_stream_name   = "ts-test-lake-delivery"
    function_names         = { consumer = "ts-test-consumer" }
    queue_names            = {}
    alarm_email            = "oncall@example.com"
  }

  assert {
    condition     = aws_sns_topic_subscription.email[0].protocol == "email" && aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com"
    error_message = "alarm_email must be subscribed to the topic."
  }
}

# That no secret reaches the state, and that a later apply leaves the operator's values alone, is
# behaviour of the applied stack: tests/terraform/test_apply.py checks both on the emulator.
run "secrets_are_secure_strings_under_the_stack_key" {
  command = apply

  module {
    source = "./modules/secrets"
  }

  assert {
    condition = toset([for parameter in aws_ssm_parameter.this : parameter.name]) == toset([
      "/twitter/consumer_key", "/twitter/consumer_secret", "/twitter/access_token_key",
      "/twitter/access_token_secret", "/twitter/bearer_token",
    ])
    error_message = "The five X API credentials must exist under /twitter/."
  }

  assert {
    condition = alltrue([
      for parameter in aws_ssm_parameter.this :
      parameter.type == "SecureString" && parameter.key_id == var.kms_key_arn
    ])
    error_message = "Credentials must be SecureString under the stack key."
  }
}

run "function_logs_and_traces_with_own_scope" {
  command = apply

  module {
    source = "./modules/function"
  }

  variables {
    function_name            = "ts-test-producer"
    description              = "test"
    artifact_path            = "tests/fixtures/lambda/producer.zip"
    environment_variables    = { STREAM_NAME = "ts-test-tweets" }
    account_id               = "123456789012"
    create_dead_letter_queue = true
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be active."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.this.name == "/aws/lambda/ts-test-producer" &&
      aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    )
    error_message = "The function's log group must be its own and KMS-encrypted."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
      if contains(statement.Action, "logs:PutLogEvents")
    ]) == ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
    error_message = "The function may write only to its own log group."
  }

  assert {
    condition     = aws_lambda_function.this.dead_letter_config[0].target_arn == aws_sqs_queue.dead_letter[0].arn
    error_message = "Failed asynchronous invocations must go to the function's dead-letter queue."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "app.lambda_handler" && aws_lambda_function.this.runtime == "python3.11"
    error_message = "Handler and runtime must match the build (app.lambda_handler, python3.11)."
  }
}

run "function_refuses_wildcard_actions" {
  command = plan

  module {
    source = "./modules/function"
  }

  variables {
    function_name         = "ts-test-consumer"
    description           = "test"
    artifact_path         = "tests/fixtures/lambda/consumer.zip"
    environment_variables = {}
    account_id            = "123456789012"
    policy_statements     = [{ sid = "TooBroad", actions = ["dynamodb:*"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/t"] }]
  }

  expect_failures = [var.policy_statements]
}

run "lake_table_reads_json_lines_when_the_format_is_ndjson" {
  command = plan

  module {
    source = "./modules/lake"
  }

  variables {
    bucket_name           = "ts-test-lake-123456789012"
    glue_database_name    = "ts_test_lake"
    athena_workgroup_name = "ts-test"
    storage_format        = "ndjson"
  }

  assert {
    condition = (
      aws_glue_catalog_table.tweets.storage_descriptor[0].ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe" &&
      aws_glue_catalog_table.tweets.storage_descriptor[0].input_format == "org.apache.hadoop.mapred.TextInputFormat" &&
      aws_glue_catalog_table.tweets.parameters["classification"] == "json"
    )
    error_message = "With storage_format ndjson the table must read JSON lines with the OpenX SerDe."
  }
}

run "delivery_converts_to_parquet_against_the_glue_table" {
  command = apply

  module {
    source = "./modules/delivery"
  }

  variables {
    name                     = "ts-test-lake-delivery"
    source_stream_arn        = "arn:aws:kinesis:us-east-1:123456789012:stream/ts-test-tweets"
    bucket_arn               = "arn:aws:s3:::ts-test-lake-123456789012"
    transformer_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ts-test-firehose-transformer"
    account_id               = "123456789012"
    prefixes                 = { tweets = "tweets/", errors = "errors/" }
    buffering_size_mb        = 64
    parquet_conversion = {
      database_name = "ts_test_lake"
      table_name    = "tweets"
      compression   = "SNAPPY"
    }
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].enabled &&
      length(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].input_format_configuration[0].deserializer[0].open_x_json_ser_de) == 1 &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].output_format_configuration[0].serializer[0].parquet_ser_de[0].compression == "SNAPPY"
    )
    error_message = "Firehose must read the transformer's JSON with the OpenX SerDe and write SNAPPY Parquet."
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].database_name == "ts_test_lake" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].table_name == "tweets" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].role_arn == aws_iam_role.this.arn &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].data_format_conversion_configuration[0].schema_configuration[0].version_id == "LATEST"
    )
    error_message = "The schema must be the Glue table's latest version, read with the delivery role."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].compression_format == "UNCOMPRESSED"
    error_message = "S3 compression must be off when the Parquet serializer compresses."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement
      if statement.Sid == "ReadConversionSchema"
      ]) == {
      Sid    = "ReadConversionSchema"
      Effect = "Allow"
      Action = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
      Resource = [
        "arn:aws:glue:us-east-1:123456789012:catalog",
        "arn:aws:glue:us-east-1:123456789012:database/ts_test_lake",
        "arn:aws:glue:us-east-1:123456789012:table/ts_test_lake/tweets",
      ]
    }
    error_message = "The delivery role must read exactly the conversion's table, database and catalog."
  }
}

run "delivery_writes_partitioned_objects_through_the_transformer" {
  command = apply

  module {
    source = "./modules/delivery"
  }

  variables {
    name                     = "ts-test-lake-delivery"
    source_stream_arn        = "arn:aws:kinesis:us-east-1:123456789012:stream/ts-test-tweets"
    bucket_arn               = "arn:aws:s3:::ts-test-lake-123456789012"
    prefixes                 = { tweets = "tweets/", errors = "errors/" }
    transformer_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ts-test-firehose-transformer"
    account_id               = "123456789012"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.kinesis_source_configuration[0].kinesis_stream_arn == var.source_stream_arn
    error_message = "Firehose must read the tweet stream."
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix == "tweets/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/" &&
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].error_output_prefix == "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    error_message = "Objects must land under the partition layout the Glue table projects."
  }

  assert {
    condition = [
      for parameter in aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].parameters :
      [parameter.parameter_name, parameter.parameter_value]
    ] == [["LambdaArn", var.transformer_function_arn]]
    error_message = "The transformer must be the only processor parameter (defaults are left out to avoid a perpetual diff)."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].kms_key_arn == var.kms_key_arn
    error_message = "Delivered objects must be encrypted with the stack key."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].log_group_name == aws_cloudwatch_log_group.this.name
    error_message = "Delivery errors must be logged to the stream's own log group."
  }
}

run "table_and_stream_are_encrypted_with_the_stack_key" {
  command = apply

  module {
    source = "./modules/event_table"
  }

  variables {
    name = "ts-test-EventData"
  }

  assert {
    condition = (
      aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk" &&
      aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at" && aws_dynamodb_table.this.ttl[0].enabled &&
      aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn &&
      aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    )
    error_message = "EventData must be on-demand, keyed pk/sk, TTL on expires_at, CMK-encrypted, with PITR."
  }
}

run "stream_is_kms_encrypted" {
  command = apply

  module {
    source = "./modules/stream"
  }

  variables {
    name = "ts-test-tweets"
  }

  assert {
    condition = (
      aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.kms_key_id == var.kms_key_arn &&
      aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND" && aws_kinesis_stream.this.shard_count == null
    )
    error_message = "The stream must be KMS-encrypted and on-demand without a shard count by default."
  }
}

run "key_rotates" {
  command = apply

  module {
    source = "./modules/kms"
  }

  variables {
    alias                   = "ts-test"
    description             = "test"
    account_id              = "123456789012"
    partition               = "aws"
    region                  = "us-east-1"
    log_group_name_prefixes = ["/aws/lambda/ts-test-"]
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "Key rotation must be on."
  }

  assert {
    condition = toset([
      for statement in jsondecode(aws_kms_key.this.policy).Statement : statement.Principal
      ]) == toset([
      { AWS = "arn:aws:iam::123456789012:root" },
      { Service = "logs.us-east-1.amazonaws.com" },
      { Service = "cloudwatch.amazonaws.com" },
    ])
    error_message = "The key policy must grant the account root and exactly the services that encrypt with it."
  }
}

# How an alarm treats periods without data (missing, notBreaching, ...):
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
run "producer_alarms_watch_empty_and_failed_runs" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  variables {
    name                     = "ts-test"
    metrics_namespace        = "ts/test"
    consumer_function_name   = "ts-test-consumer"
    delivery_stream_name     = "ts-test-lake-delivery"
    function_names           = { producer = "ts-test-producer" }
    queue_names              = {}
    producer_function_name   = "ts-test-producer"
    producer_period_seconds  = 600
    producer_idle_alarm_runs = 4
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].metric_name == "TweetsFetched" &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].namespace == "ts/test" &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].dimensions == tomap({ service = "producer" }) &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].period == 600 &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].evaluation_periods == 4 &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].datapoints_to_alarm == 4 &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["producer-no-tweets"].treat_missing_data == "missing"
    )
    error_message = "producer-no-tweets must fire after N consecutive runs (one period each) without a fetched tweet, ignoring runs that never fetched."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["producer-fetches-failed"].metric_name == "AllFetchesFailed" &&
      aws_cloudwatch_metric_alarm.this["producer-fetches-failed"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.this["producer-credentials-not-set"].metric_name == "CredentialsNotSet" &&
      aws_cloudwatch_metric_alarm.this["producer-credentials-not-set"].treat_missing_data == "notBreaching"
    )
    error_message = "A run whose every fetch failed alarms at once; the not-configured alarm clears on the first configured run."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["producer-errors"].treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.this["producer-errors"].period == 300
    error_message = "AWS service metric alarms keep their period and treat no data as no traffic."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.namespace == "ts/test" if !startswith(alarm.namespace, "AWS/")
    ])
    error_message = "Every alarm on the functions' own metrics reads this environment's namespace (metrics_namespace) only."
  }
}

# ---------------------------------------------------------------------------------------------
# Limits AWS enforces only at apply time, checked at plan time instead.
# ---------------------------------------------------------------------------------------------

# "Lambda quotas": environment variables, 4 KB in aggregate.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
run "function_environment_must_fit_four_kilobytes" {
  command = plan

  module {
    source = "./modules/function"
  }

  variables {
    function_name         = "ts-test-producer"
    description           = "test"
    artifact_path         = "tests/fixtures/lambda/producer.zip"
    environment_variables = { SEARCH_QUERIES = jsonencode([for index in range(9) : format("%0500d", index)]) }
    account_id            = "123456789012"
  }

  expect_failures = [var.environment_variables]
}

run "function_environment_is_measured_in_bytes" {
  command = plan

  module {
    source = "./modules/function"
  }

  variables {
    function_name = "ts-test-producer"
    description   = "test"
    artifact_path = "tests/fixtures/lambda/producer.zip"
    # 1,400 characters of three bytes each: 4,200 bytes, which Lambda refuses.
    environment_variables = { SEARCH_QUERIES = join("", [for index in range(700) : "語語"]) }
    account_id            = "123456789012"
  }

  expect_failures = [var.environment_variables]
}

# "Configuring error handling for asynchronous invocation": 0-2 retries, 60-21600 s event age.
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
run "function_async_settings_are_what_lambda_accepts" {
  command = plan

  module {
    source = "./modules/function"
  }

  variables {
    function_name         = "ts-test-producer"
    description           = "test"
    artifact_path         = "tests/fixtures/lambda/producer.zip"
    environment_variables = {}
    account_id            = "123456789012"
    async_invocation      = { maximum_retry_attempts = 3, maximum_event_age_in_seconds = 30 }
  }

  expect_failures = [var.async_invocation]
}

# "PutMetricAlarm": Period is 10, 30 or a multiple of 60, and Period x EvaluationPeriods may not
# exceed 86,400 s. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
run "alarm_windows_are_what_cloudwatch_accepts" {
  command = plan

  module {
    source = "./modules/alarms"
  }

  variables {
    name                     = "ts-test"
    consumer_function_name   = "ts-test-consumer"
    delivery_stream_name     = "ts-test-lake-delivery"
    function_names           = {}
    queue_names              = {}
    period_seconds           = 300
    evaluation_periods       = 289
    producer_function_name   = "ts-test-producer"
    producer_period_seconds  = 3600
    producer_idle_alarm_runs = 3
    metrics_namespace        = "ts/test"
  }

  expect_failures = [var.evaluation_periods]
}

run "alarm_periods_are_what_cloudwatch_accepts" {
  command = plan

  module {
    source = "./modules/alarms"
  }

  variables {
    metrics_namespace      = "ts/test"
    name                   = "ts-test"
    consumer_function_name = "ts-test-consumer"
    delivery_stream_name   = "ts-test-lake-delivery"
    function_names         = {}
    queue_names            = {}
    period_seconds         = 90
  }

  expect_failures = [var.period_seconds]
}

# A reader that stopped emits no metric at all, and the alarms on its own metrics treat missing
# data as no traffic; the stream's IncomingRecords (emitted whoever reads) tells them apart.
# Kinesis stream metrics: https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
# Lambda Invocations: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
# Firehose DataReadFromKinesisStream.Records: https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
run "an_alarm_fires_when_records_arrive_and_a_reader_reads_none" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  variables {
    metrics_namespace      = "ts/test"
    name                   = "ts-test"
    stream_name            = "ts-test-tweets"
    consumer_function_name = "ts-test-consumer"
    delivery_stream_name   = "ts-test-lake-delivery"
    function_names         = {}
    queue_names            = {}
  }

  assert {
    condition = alltrue([
      for key, reader in {
        consumer-not-reading = { namespace = "AWS/Lambda", metric = "Invocations", dimensions = { FunctionName = "ts-test-consumer" } }
        delivery-not-reading = { namespace = "AWS/Firehose", metric = "DataReadFromKinesisStream.Records", dimensions = { DeliveryStreamName = "ts-test-lake-delivery" } }
        } : (
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "incoming"]).namespace == "AWS/Kinesis" &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "incoming"]).metric_name == "IncomingRecords" &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "incoming"]).dimensions == tomap({ StreamName = "ts-test-tweets" }) &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "read"]).namespace == reader.namespace &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "read"]).metric_name == reader.metric &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.metric[0] if query.id == "read"]).dimensions == tomap(reader.dimensions) &&
        one([for query in aws_cloudwatch_metric_alarm.stream_readers[key].metric_query : query.expression if query.return_data == true]) == "IF(incoming > 0 AND FILL(read, 0) == 0, 1, 0)"
      )
    ])
    error_message = "Each stream reader must alarm when the stream's IncomingRecords has data and the reader's own metric has none (FILL to 0)."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.stream_readers :
      alarm.treat_missing_data == "notBreaching" && alarm.evaluation_periods == 3 && alarm.datapoints_to_alarm == 3 &&
      alarm.comparison_operator == "GreaterThanOrEqualToThreshold" && alarm.threshold == 1
    ])
    error_message = "Three periods with records and no reads fire the alarm; no records is not a failure."
  }
}

# "DeleteWorkGroup": without RecursiveDeleteOption AWS refuses to delete a workgroup that holds
# named queries or query executions (any workgroup that was used).
# https://docs.aws.amazon.com/athena/latest/APIReference/API_DeleteWorkGroup.html
# Provider: aws_athena_workgroup force_destroy sets that option.
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/athena_workgroup
run "athena_workgroup_is_destroyed_with_its_history_even_in_prod" {
  command = apply

  module {
    source = "./modules/lake"
  }

  variables {
    bucket_name           = "ts-prod-lake-123456789012"
    glue_database_name    = "ts_prod_lake"
    athena_workgroup_name = "ts-prod"
    force_destroy         = false
  }

  assert {
    condition     = aws_athena_workgroup.this.force_destroy && !aws_s3_bucket.this.force_destroy
    error_message = "The workgroup (history, saved queries) must be deletable while the bucket keeps its data protected."
  }
}

run "event_table_on_demand_has_no_auto_scaling" {
  command = apply

  module {
    source = "./modules/event_table"
  }

  variables {
    name = "ts-test-EventData"
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.this) == 0
    error_message = "An on-demand table needs no auto scaling."
  }
}

run "event_table_provisioned_scales_reads_and_writes" {
  command = plan

  module {
    source = "./modules/event_table"
  }

  variables {
    name         = "ts-test-EventData"
    billing_mode = "PROVISIONED"
    autoscaling = {
      write_min_capacity         = 50
      write_max_capacity         = 2000
      target_utilization_percent = 75
    }
  }

  # The starting capacities (the minimums) are checked on the emulator (tests/terraform): the
  # capacities' ignore_changes, which leaves them to auto scaling, hides them from a mock.
  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PROVISIONED"
    error_message = "The table must be provisioned."
  }

  assert {
    condition = (
      aws_appautoscaling_target.this["write"].scalable_dimension == "dynamodb:table:WriteCapacityUnits" &&
      aws_appautoscaling_target.this["write"].min_capacity == 50 &&
      aws_appautoscaling_target.this["write"].max_capacity == 2000 &&
      aws_appautoscaling_target.this["read"].scalable_dimension == "dynamodb:table:ReadCapacityUnits" &&
      aws_appautoscaling_target.this["read"].resource_id == "table/ts-test-EventData" &&
      aws_appautoscaling_target.this["index_write"].scalable_dimension == "dynamodb:index:WriteCapacityUnits" &&
      aws_appautoscaling_target.this["index_write"].resource_id == "table/ts-test-EventData/index/${var.activity_index_name}"
    )
    error_message = "Reads and writes must each be a scalable target with the given bounds."
  }

  assert {
    condition = alltrue([
      for key, policy in aws_appautoscaling_policy.this :
      policy.policy_type == "TargetTrackingScaling" &&
      policy.target_tracking_scaling_policy_configuration[0].target_value == 75
    ]) && length(aws_appautoscaling_policy.this) == 4
    error_message = "Reads and writes of the table and of its index must each track the target utilisation."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.this["write"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBWriteCapacityUtilization"
    )
    error_message = "Writes must track write capacity utilisation."
  }
}
