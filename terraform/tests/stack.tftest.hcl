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
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
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
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Consumer environment differs from docs/data-model.md."
  }

  assert {
    condition = module.transformer.environment_variables == tomap({
      SENTIMENT_ENGINE             = "vader"
      POWERTOOLS_SERVICE_NAME      = "firehose-transformer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
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
  }

  expect_failures = [
    var.consumer_maximum_retry_attempts,
    var.consumer_maximum_record_age_seconds,
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
  }

  expect_failures = [
    var.environment,
    var.tweet_source,
    var.sentiment_engine,
    var.stream_mode,
    var.local_endpoint,
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

run "api_ranks_the_search_queries_unless_told_otherwise" {
  command = plan

  variables {
    search_queries = ["aws lambda", "a, b", "#serverless"]
  }

  assert {
    condition     = module.api_function.environment_variables["TOPICS"] == "aws lambda,#serverless"
    error_message = "With no api_topics the page ranks the search queries (a query holding a comma cannot be listed)."
  }
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
