locals {
  function_alarms = merge(
    {
      for key, function_name in var.function_names : "${key}-errors" => {
        description = "${function_name} raised errors (failed invocations)."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        statistic   = "Sum"
        comparison  = "GreaterThanThreshold"
        threshold   = 0
        dimensions  = { FunctionName = function_name }
      }
    },
    {
      for key, function_name in var.function_names : "${key}-throttles" => {
        description = "${function_name} was throttled: concurrency is exhausted."
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        statistic   = "Sum"
        comparison  = "GreaterThanThreshold"
        threshold   = 0
        dimensions  = { FunctionName = function_name }
      }
    },
  )

  queue_alarms = {
    for key, queue_name in var.queue_names : "${key}-messages-visible" => {
      description = "${queue_name} holds work the stack gave up on: inspect and replay it."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
      dimensions  = { QueueName = queue_name }
    }
  }

  # HTTP API metrics are `4xx`/`5xx` by ApiId and Stage (not the REST API's 5XXError):
  # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
  api_alarms = var.http_api == null ? {} : {
    api-5xx = {
      description = "The read API answered with server errors (5xx): see the api function's errors and logs."
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
      dimensions  = { ApiId = var.http_api.id, Stage = var.http_api.stage }
    }
  }

  pipeline_alarms = {
    consumer-iterator-age = {
      description = "The consumer falls behind the stream: records wait longer than the threshold."
      namespace   = "AWS/Lambda"
      metric_name = "IteratorAge"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.iterator_age_threshold_ms
      dimensions  = { FunctionName = var.consumer_function_name }
    }
    delivery-data-freshness = {
      description = "The oldest record in Firehose waits longer than the threshold to reach S3."
      namespace   = "AWS/Firehose"
      metric_name = "DeliveryToS3.DataFreshness"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.data_freshness_threshold_seconds
      dimensions  = { DeliveryStreamName = var.delivery_stream_name }
    }
    delivery-success = {
      description = "Firehose failed to put objects to S3."
      namespace   = "AWS/Firehose"
      metric_name = "DeliveryToS3.Success"
      statistic   = "Minimum"
      comparison  = "LessThanThreshold"
      threshold   = 1
      dimensions  = { DeliveryStreamName = var.delivery_stream_name }
    }
  }

  # From the producer's own metrics (Powertools EMF, dimension service): one datapoint per run.
  producer_alarms = var.producer_function_name == null ? {} : {
    producer-no-tweets = {
      description = "${var.producer_function_name} fetched no tweet in ${var.producer_idle_alarm_runs} consecutive runs: check the search queries, trend WOEIDs and the X API credentials."
      namespace   = var.metrics_namespace
      metric_name = "TweetsFetched"
      statistic   = "Sum"
      comparison  = "LessThanThreshold"
      threshold   = 1
      dimensions  = { service = var.producer_service_name }
      period      = var.producer_period_seconds
      evaluation  = var.producer_idle_alarm_runs
      # A period without a datapoint is a run that never fetched (credentials not set yet, which
      # producer-credentials-not-set reports, or no invocation, which Errors/Throttles report):
      # it neither breaks nor extends a streak of empty runs.
      missing = "missing"
    }
    producer-fetches-failed = {
      description = "Every X API fetch of a ${var.producer_function_name} run failed (see its ERROR log)."
      namespace   = var.metrics_namespace
      metric_name = "AllFetchesFailed"
      statistic   = "Maximum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      dimensions  = { service = var.producer_service_name }
      period      = var.producer_period_seconds
      evaluation  = 1
      # Emitted by every run that fetched; no datapoint means no such run.
      missing = "notBreaching"
    }
    producer-credentials-not-set = {
      description = "${var.producer_function_name} ran with X API credentials still unset (the placeholder): set them as the README says; this alarm clears on the next run."
      namespace   = var.metrics_namespace
      metric_name = "CredentialsNotSet"
      statistic   = "Maximum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      dimensions  = { service = var.producer_service_name }
      period      = var.producer_period_seconds
      evaluation  = 1
      # Emitted only by a run that found no credentials: the first configured run clears it.
      missing = "notBreaching"
    }
  }

  alarms = merge(
    {
      for key, alarm in merge(local.function_alarms, local.queue_alarms, local.api_alarms, local.pipeline_alarms) :
      key => merge(alarm, { period = var.period_seconds, evaluation = var.evaluation_periods, missing = "notBreaching" })
    },
    local.producer_alarms,
  )
}

locals {
  # A reader that stopped (a disabled or deleted event source mapping, a Firehose that lost access
  # to the stream or its key) emits nothing at all: no Lambda Invocations, no Firehose
  # DataReadFromKinesisStream.Records, so every alarm on its own metrics sees missing data, which
  # they treat as no traffic. The stream's IncomingRecords does not depend on the readers: while
  # records arrive, a reader with no reads (FILL turns its missing datapoints into 0) breaches.
  # Kinesis: https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
  # Lambda (Invocations, IteratorAge): https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
  # Firehose (DataReadFromKinesisStream.Records): https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
  # Metric math (IF, FILL): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
  stream_readers = var.stream_name == null ? {} : {
    consumer-not-reading = {
      description = "Records arrive on ${var.stream_name} but ${var.consumer_function_name} is not invoked: its event source mapping is disabled, deleted or cannot read the stream."
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = var.consumer_function_name }
    }
    delivery-not-reading = {
      description = "Records arrive on ${var.stream_name} but ${var.delivery_stream_name} reads none of them: Firehose cannot read the stream (its role or the key)."
      namespace   = "AWS/Firehose"
      metric_name = "DataReadFromKinesisStream.Records"
      dimensions  = { DeliveryStreamName = var.delivery_stream_name }
    }
  }
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  dimensions          = each.value.dimensions
  period              = each.value.period
  evaluation_periods  = each.value.evaluation
  datapoints_to_alarm = each.value.evaluation
  # AWS service metrics: no data means no traffic, which none of them is about. The producer's
  # own metrics say per alarm above why they treat missing data as they do.
  treat_missing_data = each.value.missing
  alarm_actions      = [aws_sns_topic.this.arn]
  ok_actions         = [aws_sns_topic.this.arn]
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "stream_readers" {
  for_each = local.stream_readers

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = var.stream_reader_evaluation_periods
  datapoints_to_alarm = var.stream_reader_evaluation_periods
  # No records arrived (no IncomingRecords datapoint): nothing was there to read.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.this.arn]
  ok_actions         = [aws_sns_topic.this.arn]
  tags               = var.tags

  metric_query {
    id = "incoming"

    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "IncomingRecords"
      dimensions  = { StreamName = var.stream_name }
      period      = var.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "read"

    metric {
      namespace   = each.value.namespace
      metric_name = each.value.metric_name
      dimensions  = each.value.dimensions
      period      = var.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "unread"
    expression  = "IF(incoming > 0 AND FILL(read, 0) == 0, 1, 0)"
    label       = "records arrived, none read"
    return_data = true
  }
}
