locals {
  log_group_name = "/aws/lambda/${var.function_name}"

  # The environment's size as its JSON's bytes, as the environment_variables validation measures.
  environment_base64 = base64encode(jsonencode(var.environment_variables))
  environment_bytes  = length(local.environment_base64) * 3 / 4 - length(regexall("=", local.environment_base64))

  base_statements = [
    {
      sid        = "WriteOwnLogGroup"
      actions    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources  = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
      conditions = []
    },
    {
      # X-Ray has no resource-level permissions: "*" is the only resource AWS accepts here.
      sid        = "SendTraces"
      actions    = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources  = ["*"]
      conditions = []
    },
    {
      # The environment variables are encrypted with the customer managed key; only Lambda may
      # use the grant to decrypt them.
      sid       = "DecryptEnvironment"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["lambda.${var.region}.amazonaws.com"] },
      ]
    },
  ]

  # The queue is encrypted with the key, so sending to it needs a data key too.
  dead_letter_statements = flatten([
    for queue in aws_sqs_queue.dead_letter : [
      {
        sid        = "SendFailedAsyncEventsToDeadLetterQueue"
        actions    = ["sqs:SendMessage"]
        resources  = [queue.arn]
        conditions = []
      },
      {
        # Sending to an SSE-KMS queue needs GenerateDataKey and Decrypt, through SQS only.
        sid       = "EncryptDeadLetterMessages"
        actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources = [var.kms_key_arn]
        conditions = [
          { test = "StringEquals", variable = "kms:ViaService", values = ["sqs.${var.region}.amazonaws.com"] },
        ]
      },
    ]
  ])

  statements = concat(local.base_statements, local.dead_letter_statements, var.policy_statements)
}

resource "aws_iam_role" "this" {
  name        = var.function_name
  description = "Execution role of the ${var.function_name} Lambda function."
  tags        = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "${var.function_name}-least-privilege"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      for statement in local.statements : merge(
        {
          Sid      = statement.sid
          Effect   = "Allow"
          Action   = statement.actions
          Resource = statement.resources
        },
        # Condition only when there is one: {test => {variable => values}}.
        {
          for key, conditions in { Condition = statement.conditions } : key => {
            for test in distinct([for condition in conditions : condition.test]) : test => {
              for condition in conditions : condition.variable => condition.values if condition.test == test
            }
          } if length(conditions) > 0
        },
      )
    ]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (operational logs, 30 days by default); raise it where an audit rule asks for a year.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  count = var.create_dead_letter_queue ? 1 : 0

  name                      = "${var.function_name}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only public AWS and X endpoints; a VPC would add NAT cost and no isolation.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the reference stack cannot assume exists; zips are built reproducibly by scripts/build_lambdas.py.
  #checkov:skip=CKV_AWS_116:A DLQ only applies to asynchronous invocation: the producer (EventBridge) gets one via create_dead_letter_queue; the consumer's failures go to its event source mapping's on-failure queue and Firehose retries the transformer.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is opt-in (reserved_concurrent_executions): reserving it by default can fail deployment in accounts with a low concurrency quota.
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  filename                       = var.artifact_path
  source_code_hash               = filebase64sha256(var.artifact_path)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = ["x86_64"]
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = var.environment_variables
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "dead_letter_config" {
    for_each = aws_sqs_queue.dead_letter

    content {
      target_arn = dead_letter_config.value.arn
    }
  }

  # The function must not log before its log group exists with retention and encryption, and its
  # first invocation needs the policy in place.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_invocation == null ? 0 : 1

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_invocation.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invocation.maximum_event_age_in_seconds
}
