# Plan-time checks of the whole stack against a mocked AWS provider: names, wiring, least
# privilege and input validation. Run with `scripts/terraform -chdir=terraform test`.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  environment          = "test"
  lambda_artifacts_dir = "tests/fixtures/lambda"
  alarm_email          = "oncall@example.com"
}

run "names_follow_the_contract" {
  command = apply

  assert {
    condition     = output.stream_name == "trendstream-test-tweets"
    error_message = "Stream must be <prefix>-<env>-tweets."
  }

  assert {
    condition     = output.table_name == "trendstream-test-EventData"
    error_message = "Table must be <prefix>-<env>-EventData."
  }

  assert {
    condition     = output.lake_bucket == "trendstream-test-lake-123456789012"
    error_message = "Bucket must be <prefix>-<env>-lake-<account>."
  }

  assert {
    condition = [
      output.producer_function_name,
      output.consumer_function_name,
      output.transformer_function_name,
      ] == [
      "trendstream-test-producer",
      "trendstream-test-consumer",
      "trendstream-test-firehose-transformer",
    ]
    error_message = "Functions must be <prefix>-<env>-producer|consumer|firehose-transformer."
  }

  assert {
    condition     = output.glue_table == "tweets" && output.glue_database == "trendstream_test_lake"
    error_message = "Glue names must be Athena-compatible (lowercase, underscores)."
  }

  assert {
    condition     = length(output.athena_named_query_ids) == 4
    error_message = "The four named queries must exist."
  }

  assert {
    condition = output.twitter_parameter_names == {
      consumer_key        = "/trendstream/test/twitter/consumer_key"
      consumer_secret     = "/trendstream/test/twitter/consumer_secret"
      access_token_key    = "/trendstream/test/twitter/access_token_key"
      access_token_secret = "/trendstream/test/twitter/access_token_secret"
      bearer_token        = "/trendstream/test/twitter/bearer_token"
    }
    error_message = "The five X API credentials live under /<prefix>/<env>/twitter/, named by the twitter_parameter_names output."
  }

  assert {
    condition     = output.region == "us-east-1" && output.kms_key_arn != ""
    error_message = "The README's secret commands need the stack's region and key as outputs."
  }
}

run "functions_get_the_contract_environment" {
  command = apply

  assert {
    condition = module.producer.environment_variables == tomap({
      STREAM_NAME                  = "trendstream-test-tweets"
      TABLE_NAME                   = "trendstream-test-EventData"
      TWEET_SOURCE                 = "x"
      TWITTER_SSM_PREFIX           = "/trendstream/test/twitter/"
      TWITTER_SECRET_PLACEHOLDER   = "SET_ME"
      SEARCH_QUERIES               = "[\"aws lambda\",\"#serverless\",\"terraform aws\"]"
      TREND_WOEIDS                 = "1"
      SENTIMENT_ENGINE             = "vader"
      POWERTOOLS_SERVICE_NAME      = "producer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream/test"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Producer environment differs from docs/data-model.md."
  }

  assert {
    condition = module.consumer.environment_variables == tomap({
      TABLE_NAME                   = "trendstream-test-EventData"
      LAKE_BUCKET                  = "trendstream-test-lake-123456789012"
      SENTIMENT_ENGINE             = "vader"
      TTL_DAYS                     = "7"
      HOT_TOPIC_KEY_PARTS          = "{}"
      POWERTOOLS_SERVICE_NAME      = "consumer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream/test"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Consumer environment differs from docs/data-model.md."
  }

  assert {
    condition = module.transformer.environment_variables == tomap({
      SENTIMENT_ENGINE             = "vader"
      POWERTOOLS_SERVICE_NAME      = "firehose-transformer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream/test"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Transformer environment differs from docs/data-model.md."
  }
}

run "iam_policies_are_scoped" {
  command = apply

  variables {
    sentiment_engine = "comprehend"
  }

  assert {
    condition = alltrue(flatten([
      for document in [
        module.producer.policy_document,
        module.consumer.policy_document,
        module.transformer.policy_document,
        module.delivery.policy_document,
        ] : [
        for statement in jsondecode(document).Statement : [
          for action in statement.Action : !strcontains(action, "*")
        ]
      ]
    ]))
    error_message = "No IAM action may use a wildcard."
  }

  assert {
    condition = alltrue(flatten([
      for document in [
        module.producer.policy_document,
        module.consumer.policy_document,
        module.transformer.policy_document,
        module.delivery.policy_document,
        ] : [
        for statement in jsondecode(document).Statement : [
          # Actions AWS accepts only with Resource "*"; anything else must name exact ARNs.
          for action in statement.Action : contains([
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "comprehend:BatchDetectSentiment",
            "comprehend:DetectSentiment",
          ], action) if contains(statement.Resource, "*")
        ]
      ]
    ]))
    error_message = "Resource \"*\" is allowed only for actions AWS cannot scope (X-Ray, Comprehend)."
  }

  assert {
    condition = contains(flatten([
      for statement in jsondecode(module.producer.policy_document).Statement : statement.Action
    ]), "comprehend:BatchDetectSentiment")
    error_message = "The producer scores sentiment once per tweet: with Comprehend it may call it."
  }

  assert {
    condition = contains(flatten([
      for statement in jsondecode(module.consumer.policy_document).Statement : statement.Action
    ]), "comprehend:BatchDetectSentiment")
    error_message = "With sentiment_engine = comprehend the consumer may call Comprehend."
  }

  assert {
    condition = one([
      for statement in jsondecode(module.producer.policy_document).Statement : statement
      if contains(statement.Action, "kinesis:PutRecords")
    ]).Resource == [output.stream_arn]
    error_message = "The producer may put records on the tweet stream only."
  }

  assert {
    condition = toset(one([
      for statement in jsondecode(module.producer.policy_document).Statement : statement.Resource
      if contains(statement.Action, "ssm:GetParameter")
    ])) == toset(values(module.secrets.parameter_arns))
    error_message = "The producer may read exactly the five credential parameters."
  }

  assert {
    condition = one([
      for statement in jsondecode(module.consumer.policy_document).Statement : statement.Resource
      if contains(statement.Action, "s3:PutObject")
    ]) == ["${module.lake.bucket_arn}/quarantine/*"]
    error_message = "The consumer may write under quarantine/ only."
  }
}

run "comprehend_is_not_granted_unless_used" {
  command = apply

  assert {
    condition = !anytrue([
      for statement in concat(
        jsondecode(module.consumer.policy_document).Statement,
        jsondecode(module.transformer.policy_document).Statement,
      ) : anytrue([for action in statement.Action : startswith(action, "comprehend:")])
    ])
    error_message = "With sentiment_engine = vader no function may call Comprehend."
  }
}

run "alarms_cover_every_failure_signal" {
  command = apply

  assert {
    condition = toset(keys(module.alarms.alarm_names)) == toset([
      "consumer-iterator-age",
      "producer-errors",
      "producer-throttles",
      "consumer-errors",
      "consumer-throttles",
      "transformer-errors",
      "transformer-throttles",
      "api-errors",
      "api-throttles",
      "api-5xx",
      "consumer-on-failure-messages-visible",
      "producer-dlq-messages-visible",
      "delivery-data-freshness",
      "delivery-success",
      "producer-no-tweets",
      "producer-fetches-failed",
      "producer-credentials-not-set",
      "consumer-not-reading",
      "delivery-not-reading",
    ])
    error_message = "Every watched metric must have exactly one alarm."
  }
}

run "local_endpoint_forces_destroyable_resources" {
  command = plan

  variables {
    environment    = "local"
    local_endpoint = "http://127.0.0.1:4566"
  }

  assert {
    condition     = local.force_destroy
    error_message = "The local stack must always be destroyable."
  }
}

run "rejects_unbounded_retries" {
  command = plan

  variables {
    consumer_maximum_retry_attempts     = -1
    consumer_maximum_record_age_seconds = -1
    consumer_starting_position          = "AT_TIMESTAMP"
  }

  expect_failures = [
    var.consumer_maximum_retry_attempts,
    var.consumer_maximum_record_age_seconds,
    var.consumer_starting_position,
  ]
}

run "rejects_bad_hot_topic_key_parts" {
  command = plan

  variables {
    hot_topic_key_parts = { "#WorldCup" = 0, "a\u001f1" = 2 }
  }

  expect_failures = [var.hot_topic_key_parts]
}

run "hot_topic_key_parts_reach_the_consumer_and_the_api" {
  command = plan

  variables {
    hot_topic_key_parts = { "#WorldCup" = 8 }
  }

  assert {
    condition = (
      jsondecode(module.consumer.environment_variables["HOT_TOPIC_KEY_PARTS"]) == { "#WorldCup" = 8 } &&
      jsondecode(module.api_function.environment_variables["HOT_TOPIC_KEY_PARTS"]) == { "#WorldCup" = 8 }
    )
    error_message = "The consumer and the api must be given the same key parts."
  }
}

run "rejects_invalid_choices" {
  command = plan

  variables {
    environment      = "Prod_1"
    tweet_source     = "firehose"
    sentiment_engine = "textblob"
    stream_mode      = "SERVERLESS"
    local_endpoint   = "localhost:4566"
    # An origin is a scheme and host: a path makes browsers never match it.
    api_cors_allow_origins = ["https://example.com/app"]
  }

  expect_failures = [
    var.environment,
    var.tweet_source,
    var.sentiment_engine,
    var.stream_mode,
    var.local_endpoint,
    var.api_cors_allow_origins,
  ]
}

# ---------------------------------------------------------------------------------------------
# The first real deploy (each run below failed on the stack before the fix it checks).
# ---------------------------------------------------------------------------------------------

run "producer_reserves_no_concurrency_by_default" {
  command = apply

  # AWS refuses a reservation that would leave less than the account's minimum unreserved
  # concurrency, which is all a new account has; overlapping runs are ruled out by the schedule.
  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
  assert {
    condition     = module.producer.reserved_concurrent_executions == -1
    error_message = "The producer must not reserve concurrency unless producer_reserved_concurrency says so."
  }
}

run "producer_reserved_concurrency_is_opt_in" {
  command = apply

  variables {
    producer_reserved_concurrency = 2
  }

  assert {
    condition     = module.producer.reserved_concurrent_executions == 2
    error_message = "producer_reserved_concurrency must reach the function."
  }
}

run "schedule_period_stays_far_above_the_producer_timeout" {
  command = plan

  variables {
    schedule_expression           = "rate(1 minute)"
    producer_reserved_concurrency = 0
  }

  expect_failures = [var.schedule_expression, var.producer_reserved_concurrency]
}

# Amazon CloudWatch concepts, "Namespaces": metrics in different namespaces are isolated from
# each other. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html
# Each stack's functions publish to a namespace of their own, which its alarms and dashboard read
# (modules.tftest.hcl and read_side.tftest.hcl check the modules keep to it).
run "dev_metrics_have_a_namespace_of_their_own" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition = output.metrics_namespace == "trendstream/dev" && alltrue([
      for variables in [
        module.producer.environment_variables, module.consumer.environment_variables,
        module.transformer.environment_variables, module.api_function.environment_variables,
      ] : variables.POWERTOOLS_METRICS_NAMESPACE == output.metrics_namespace
    ])
    error_message = "Every function of dev publishes its metrics to trendstream/dev."
  }
}

run "prod_metrics_never_reach_dev_alarms" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition = output.metrics_namespace == "trendstream/prod" && alltrue([
      for variables in [
        module.producer.environment_variables, module.consumer.environment_variables,
        module.transformer.environment_variables, module.api_function.environment_variables,
      ] : variables.POWERTOOLS_METRICS_NAMESPACE != run.dev_metrics_have_a_namespace_of_their_own.metrics_namespace
    ])
    error_message = "No prod function may publish into dev's namespace."
  }
}

run "another_prefix_in_the_same_environment_has_its_own_metrics" {
  command = plan

  variables {
    environment = "dev"
    name_prefix = "trendfork"
  }

  assert {
    condition     = output.metrics_namespace == "trendfork/dev" && output.metrics_namespace != run.dev_metrics_have_a_namespace_of_their_own.metrics_namespace
    error_message = "Two stacks of one environment with different prefixes must not share a namespace."
  }
}

run "environments_get_their_own_parameter_names" {
  command = apply

  variables {
    environment = "prod"
  }

  assert {
    condition = alltrue([
      for key, name in output.twitter_parameter_names : name == "/trendstream/prod/twitter/${key}"
    ]) && module.producer.environment_variables["TWITTER_SSM_PREFIX"] == "/trendstream/prod/twitter/"
    error_message = "A second environment in the account must get parameter names of its own."
  }
}

run "parameter_prefix_must_end_in_twitter" {
  command = plan

  variables {
    twitter_ssm_prefix = "/secrets/"
  }

  expect_failures = [var.twitter_ssm_prefix]
}

run "topic_sources_reach_the_producer" {
  command = apply

  variables {
    search_queries = ["#python", "rust lang; \"borrow checker\""]
    trend_woeids   = []
  }

  assert {
    condition = (
      jsondecode(module.producer.environment_variables["SEARCH_QUERIES"]) == ["#python", "rust lang; \"borrow checker\""] &&
      module.producer.environment_variables["TREND_WOEIDS"] == "none"
    )
    error_message = "search_queries (as JSON) and trend_woeids (none when empty) must reach the producer."
  }
}

run "topic_sources_are_validated" {
  command = plan

  variables {
    search_queries = ["  "]
    trend_woeids   = [0]
  }

  expect_failures = [var.search_queries, var.trend_woeids]
}

run "placeholder_has_one_source_of_truth" {
  command = apply

  variables {
    twitter_secret_placeholder = "CHANGE_ME"
  }

  assert {
    condition = (
      module.producer.environment_variables["TWITTER_SECRET_PLACEHOLDER"] == "CHANGE_ME" &&
      output.twitter_secret_placeholder == "CHANGE_ME"
    )
    error_message = "The producer must learn the placeholder from Terraform, not from a constant of its own."
  }
}

# An e-mail subscription delivers nothing until its owner confirms it:
# https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
run "alarm_email_is_required_outside_local" {
  command = plan

  variables {
    environment = "dev"
    alarm_email = null
  }

  expect_failures = [var.alarm_email]
}

run "alarm_notifications_can_be_disabled_knowingly" {
  command = plan

  variables {
    environment                  = "dev"
    alarm_email                  = null
    alarm_notifications_disabled = true
  }
}

run "local_stack_needs_no_alarm_email" {
  command = plan

  variables {
    environment    = "local"
    alarm_email    = null
    local_endpoint = "http://127.0.0.1:4566"
  }
}

# The consumer writes with PutItem and UpdateItem only; a transaction would be authorised per
# action it holds, so TransactWriteItems is never an IAM action to grant:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
# kms:ViaService limits a key grant to requests made through the named services:
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
run "least_privilege_tightened" {
  command = apply

  assert {
    condition = !contains(flatten([
      for statement in jsondecode(module.producer.policy_document).Statement : statement.Action
    ]), "dynamodb:PutItem")
    error_message = "The producer only reads (GetItem) and moves (UpdateItem) checkpoints: no PutItem."
  }

  assert {
    condition = length(setintersection(toset(flatten([
      for statement in jsondecode(module.consumer.policy_document).Statement : statement.Action
    ])), toset(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]))) == 0
    error_message = "The consumer reads nothing from the table, and TransactWriteItems is not an IAM action."
  }

  assert {
    condition = toset([
      for action in flatten([
        for statement in jsondecode(module.consumer.policy_document).Statement : statement.Action
      ]) : action if startswith(action, "dynamodb:")
    ]) == toset(["dynamodb:PutItem", "dynamodb:UpdateItem"])
    error_message = "The consumer's table actions are exactly PutItem (tweet items) and UpdateItem (minute stats)."
  }

  assert {
    condition = toset(one([
      for statement in jsondecode(module.delivery.policy_document).Statement : statement.Resource
      if contains(statement.Action, "s3:PutObject")
    ])) == toset(["${module.lake.bucket_arn}/tweets/*", "${module.lake.bucket_arn}/errors/*"])
    error_message = "Firehose may write under tweets/ and errors/ only."
  }

  assert {
    condition = alltrue(flatten([
      for document in [
        module.producer.policy_document,
        module.consumer.policy_document,
        module.transformer.policy_document,
        module.delivery.policy_document,
        ] : [
        for statement in jsondecode(document).Statement :
        length(try(statement.Condition.StringEquals["kms:ViaService"], [])) > 0
        if anytrue([for action in statement.Action : startswith(action, "kms:")])
      ]
    ]))
    error_message = "Every KMS grant of a function or Firehose must be limited to the services that use it (kms:ViaService)."
  }
}

run "replay_dataset_is_uploaded_not_packaged" {
  command = apply

  variables {
    tweet_source = "replay"
  }

  assert {
    condition = (
      module.producer.environment_variables["REPLAY_DATASET_URI"] == "s3://${output.lake_bucket}/replay/" &&
      contains(keys(aws_s3_object.replay_dataset), "manifest.json") &&
      !contains(keys(aws_s3_object.replay_dataset), "poison.jsonl")
    )
    error_message = "Replay reads its dataset (without the demo's poison records) from the lake bucket."
  }

  assert {
    condition = one([
      for statement in jsondecode(module.producer.policy_document).Statement : statement.Resource
      if contains(statement.Action, "s3:GetObject")
    ]) == ["${module.lake.bucket_arn}/replay/*"]
    error_message = "The replay producer may read the dataset prefix only."
  }
}

run "live_stack_uploads_no_dataset" {
  command = apply

  assert {
    condition     = length(aws_s3_object.replay_dataset) == 0 && !contains(keys(module.producer.environment_variables), "REPLAY_DATASET_URI")
    error_message = "A stack on the X API carries no demo data."
  }
}

run "local_stack_reads_the_dataset_in_place" {
  command = apply

  variables {
    environment    = "local"
    tweet_source   = "replay"
    local_endpoint = "http://127.0.0.1:4566"
  }

  assert {
    condition = (
      length(aws_s3_object.replay_dataset) == 0 &&
      endswith(module.producer.environment_variables["REPLAY_DATASET_URI"], "/datasets/replay")
    )
    error_message = "The emulator's functions run on this machine: they read datasets/replay in place."
  }
}

run "api_ranks_the_discovered_topics_unless_pinned" {
  command = plan

  variables {
    search_queries = ["aws lambda", "#serverless"]
  }

  assert {
    condition     = module.api_function.environment_variables["TOPICS"] == ""
    error_message = "With no api_topics the API ranks every topic the pipeline found, not the search queries."
  }
}

run "topic_names_outside_the_rule_are_refused" {
  command = plan

  variables {
    search_queries = ["a, b", " padded", "two\nlines"]
    api_topics     = ["#ok", "x,y"]
  }

  expect_failures = [var.search_queries, var.api_topics]
}

run "api_ranks_the_topics_it_is_given" {
  command = plan

  variables {
    api_topics = ["#Europe"]
  }

  assert {
    condition     = module.api_function.environment_variables["TOPICS"] == "#Europe"
    error_message = "api_topics, when given, is what the page ranks."
  }
}

# The EventData table is encrypted with the stack key. AWS KMS Developer Guide, "How Amazon
# DynamoDB uses AWS KMS"
# (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html): DynamoDB sends
# a Decrypt request for the table key on behalf of the principal who accesses the table, with
# the encryption context aws:dynamodb:tableName / aws:dynamodb:subscriberId; the key policy of
# the AWS managed key shows the conditions kms:ViaService and kms:CallerAccount. Every role that
# calls the table (producer checkpoints, consumer writes, api queries) gets exactly that.
run "event_table_key_usable_by_its_callers" {
  command = apply

  assert {
    condition = alltrue([
      for document in [
        module.producer.policy_document,
        module.consumer.policy_document,
        module.api_function.policy_document,
        ] : length([
          for statement in jsondecode(document).Statement : statement
          if statement.Action == ["kms:Decrypt"] &&
          statement.Resource == [module.kms.key_arn] &&
          try(statement.Condition, {}) == {
            StringEquals = {
              "kms:ViaService"                               = ["dynamodb.us-east-1.amazonaws.com"]
              "kms:CallerAccount"                            = [data.aws_caller_identity.current.account_id]
              "kms:EncryptionContext:aws:dynamodb:tableName" = [module.event_table.table_name]
            }
          }
      ]) == 1
    ])
    error_message = "The producer, consumer and api roles each need kms:Decrypt on the stack key through DynamoDB, for the EventData table only."
  }

  assert {
    condition = alltrue([
      for document in [
        module.producer.policy_document,
        module.consumer.policy_document,
        module.api_function.policy_document,
        ] : length([
          for statement in jsondecode(document).Statement : statement
          if contains(try(statement.Condition.StringEquals["kms:ViaService"], []), "dynamodb.us-east-1.amazonaws.com")
      ]) == 1
    ])
    error_message = "Nothing but the table key's Decrypt is granted through DynamoDB."
  }

  assert {
    condition = length([
      for statement in jsondecode(module.transformer.policy_document).Statement : statement
      if contains(try(statement.Condition.StringEquals["kms:ViaService"], []), "dynamodb.us-east-1.amazonaws.com")
    ]) == 0
    error_message = "The transformer never calls the table: no key grant through DynamoDB."
  }
}

# ---------------------------------------------------------------------------------------------
# Inputs AWS would refuse only at apply time, or that would break the stack once deployed.
# ---------------------------------------------------------------------------------------------

# "Amazon Comprehend endpoints and quotas": the regions Comprehend exists in.
# https://docs.aws.amazon.com/general/latest/gr/comprehend.html
run "comprehend_is_refused_where_it_does_not_exist" {
  command = plan

  variables {
    region           = "eu-north-1"
    sentiment_engine = "comprehend"
  }

  expect_failures = [var.sentiment_engine]
}

run "comprehend_is_accepted_where_it_exists" {
  command = plan

  variables {
    region           = "eu-west-1"
    sentiment_engine = "comprehend"
  }
}

run "vader_runs_in_any_region" {
  command = plan

  variables {
    region           = "eu-north-1"
    sentiment_engine = "vader"
  }
}

# "PutMetricAlarm": Period x EvaluationPeriods may not exceed 86,400 s; the producer alarms have
# one period per scheduled run. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
run "idle_alarm_runs_fit_one_day_of_schedule" {
  command = plan

  variables {
    schedule_expression      = "rate(2 hours)"
    producer_idle_alarm_runs = 13
  }

  expect_failures = [var.producer_idle_alarm_runs]
}

run "schedule_runs_at_least_once_a_day" {
  command = plan

  variables {
    schedule_expression      = "rate(2 days)"
    producer_idle_alarm_runs = 1
  }

  expect_failures = [var.schedule_expression]
}

run "idle_alarm_runs_may_fill_the_day" {
  command = plan

  variables {
    schedule_expression      = "rate(1 hour)"
    producer_idle_alarm_runs = 24
  }
}

# Lambda retries a failed asynchronous run twice and keeps an event up to 6 hours by default, so
# a retried run could start after the next scheduled one. EventBridge's retry window, Lambda's
# maximum event age and the timeout add up to one schedule period.
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
run "a_retried_producer_run_ends_before_the_next_one" {
  command = apply

  assert {
    condition = module.producer.async_invocation == {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 120
    }
    error_message = "On rate(5 minutes) an event may wait 300 - 60 (EventBridge retries) - 120 (timeout) = 120 s."
  }

  assert {
    condition     = local.schedule_retry_seconds + module.producer.async_invocation.maximum_event_age_in_seconds + local.producer_timeout_seconds == local.schedule_period_seconds
    error_message = "EventBridge's retries, the wait in Lambda's queue and the run must fit one period."
  }
}

run "a_longer_schedule_allows_a_longer_wait" {
  command = apply

  variables {
    schedule_expression = "rate(1 hour)"
  }

  assert {
    condition     = module.producer.async_invocation.maximum_event_age_in_seconds == 3420
    error_message = "On rate(1 hour) an event may wait 3600 - 60 - 120 = 3420 s."
  }
}

# "Lambda quotas": 4 KB of environment variables in all, refused only when the function is
# created or updated. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
run "search_queries_must_fit_the_producer_environment" {
  command = plan

  variables {
    search_queries = [for index in range(7) : format("q%0500d", index)]
  }

  expect_failures = [var.search_queries]
}

run "default_producer_environment_fits" {
  command = apply

  assert {
    condition     = module.producer.environment_bytes > 0 && module.producer.environment_bytes < 4096
    error_message = "The producer's environment must be measured and within Lambda's 4 KB."
  }
}

run "topic_discovery_index_is_sparse_keys_only_and_the_api_may_query_it" {
  command = apply

  assert {
    condition = (
      one(module.event_table.table.global_secondary_index[*].name) == "ActiveTopicsByHour" &&
      one(module.event_table.table.global_secondary_index[*].hash_key) == "active_hour" &&
      one(module.event_table.table.global_secondary_index[*].range_key) == "sk" &&
      one(module.event_table.table.global_secondary_index[*].projection_type) == "KEYS_ONLY"
    )
    error_message = "One keys-only index on active_hour (set on the minute stats only) and sk: the topics active in each hour."
  }

  assert {
    condition = [
      for statement in jsondecode(module.api_function.policy_document).Statement : statement
      if contains(statement.Action, "dynamodb:Query")
      ][0].Resource == [
      "arn:aws:dynamodb:us-east-1:123456789012:table/mocked",
      "arn:aws:dynamodb:us-east-1:123456789012:table/mocked/index/ActiveTopicsByHour",
    ]
    error_message = "The API may Query the table and the discovery index, nothing else."
  }
}

run "api_authorization_is_validated" {
  command = plan

  variables {
    api_authorization = { type = "OAUTH" }
  }

  expect_failures = [var.api_authorization]
}

run "api_jwt_authorization_needs_an_https_issuer_and_an_audience" {
  command = plan

  variables {
    api_authorization = { type = "JWT", jwt_issuer = "http://not-https.example" }
  }

  expect_failures = [var.api_authorization]
}

run "api_jwt_fields_only_with_jwt" {
  command = plan

  variables {
    api_authorization = { type = "AWS_IAM", jwt_audience = ["x"] }
  }

  expect_failures = [var.api_authorization]
}

run "api_cannot_take_a_new_accounts_concurrency_unreserved" {
  command = plan

  variables {
    api_throttling_rate_limit  = 50
    api_throttling_burst_limit = 100
  }

  expect_failures = [var.api_throttling_burst_limit]
}

run "api_reserved_concurrency_lifts_the_throttle_bound_and_caps_the_function" {
  command = plan

  variables {
    api_throttling_rate_limit  = 50
    api_throttling_burst_limit = 100
    api_reserved_concurrency   = 20
  }

  assert {
    condition     = module.api_function.reserved_concurrent_executions == 20
    error_message = "With a reservation the API takes at most that many executions, whatever the throttle."
  }
}

run "api_defaults_are_public_throttled_and_unreserved" {
  command = plan

  assert {
    condition     = module.api_function.reserved_concurrent_executions == -1 && var.api_authorization.type == "NONE" && var.api_throttling_rate_limit + var.api_throttling_burst_limit <= 5
    error_message = "By default the API is public, unreserved, and held to 5 concurrent executions by its throttle."
  }
}

# The root validates what the operator sets; its modules trust it.
run "table_billing_and_capacity_settings_are_validated" {
  command = plan

  variables {
    table_billing_mode = "ON_DEMAND"
    table_autoscaling = {
      read_min_capacity          = 0
      write_min_capacity         = 500
      write_max_capacity         = 100
      target_utilization_percent = 95
    }
  }

  expect_failures = [var.table_billing_mode, var.table_autoscaling]
}

run "lake_format_is_validated" {
  command = plan

  variables {
    lake_format = "orc"
  }

  expect_failures = [var.lake_format]
}

# "Amazon Data Firehose: converting the input data format": conversion needs a 64 MB buffer at least.
run "parquet_lake_refuses_a_buffer_below_64_mb" {
  command = plan

  variables {
    lake_format                = "parquet"
    firehose_buffering_size_mb = 5
  }

  expect_failures = [var.firehose_buffering_size_mb]
}
