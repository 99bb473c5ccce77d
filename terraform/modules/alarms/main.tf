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

  alarms = merge(local.function_alarms, local.queue_alarms, local.pipeline_alarms)
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
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  # No data means no traffic, which none of these alarms is about.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.this.arn]
  ok_actions         = [aws_sns_topic.this.arn]
  tags               = var.tags
}
