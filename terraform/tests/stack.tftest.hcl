# Plan-time checks of the whole stack against a mocked AWS provider: names, wiring, least
# privilege and input validation. Run with `scripts/terraform -chdir=terraform test`.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  environment          = "test"
  lambda_artifacts_dir = "tests/fixtures/lambda"
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
    condition = alltrue([
      for name in values(output.twitter_ssm_parameter_names) : startswith(name, "/twitter/")
    ]) && length(output.twitter_ssm_parameter_names) == 5
    error_message = "The five X API credentials live under /twitter/."
  }
}

run "functions_get_the_contract_environment" {
  command = apply

  assert {
    condition = module.producer.environment_variables == tomap({
      STREAM_NAME                  = "trendstream-test-tweets"
      TABLE_NAME                   = "trendstream-test-EventData"
      TWEET_SOURCE                 = "x"
      TWITTER_SSM_PREFIX           = "/twitter/"
      SENTIMENT_ENGINE             = "vader"
      POWERTOOLS_SERVICE_NAME      = "producer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Producer environment differs from CONTRACT.md."
  }

  assert {
    condition = module.consumer.environment_variables == tomap({
      TABLE_NAME                   = "trendstream-test-EventData"
      LAKE_BUCKET                  = "trendstream-test-lake-123456789012"
      SENTIMENT_ENGINE             = "vader"
      TTL_DAYS                     = "7"
      POWERTOOLS_SERVICE_NAME      = "consumer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Consumer environment differs from CONTRACT.md."
  }

  assert {
    condition = module.transformer.environment_variables == tomap({
      SENTIMENT_ENGINE             = "vader"
      POWERTOOLS_SERVICE_NAME      = "firehose-transformer"
      POWERTOOLS_METRICS_NAMESPACE = "trendstream"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    })
    error_message = "Transformer environment differs from CONTRACT.md."
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
      "consumer-on-failure-messages-visible",
      "producer-dlq-messages-visible",
      "delivery-data-freshness",
      "delivery-success",
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
