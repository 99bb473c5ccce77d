locals {
  period = var.period_seconds
  fn     = var.function_names

  # One widget per question an operator asks; every metric is AWS's own or the functions'
  # Powertools metrics (namespace var.metrics_namespace, dimension service). HTTP API metrics
  # (4xx, 5xx, Count, Latency, IntegrationLatency by ApiId):
  # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
  widgets = [
    {
      title = "Records in and out per stage (sum per period)"
      stat  = "Sum"
      metrics = [
        [var.metrics_namespace, "RecordsPut", "service", "producer", { label = "producer: put on stream" }],
        ["AWS/Kinesis", "IncomingRecords", "StreamName", var.stream_name, { label = "stream: in" }],
        [var.metrics_namespace, "RecordsIn", "service", "consumer", { label = "consumer: in" }],
        [var.metrics_namespace, "TweetsWritten", "service", "consumer", { label = "consumer: tweets written" }],
        # The delivery stream reads the Kinesis stream: Firehose counts what it read there, not
        # IncomingRecords (Direct PUT only). "Data ingestion through Kinesis Data Streams":
        # https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
        ["AWS/Firehose", "DataReadFromKinesisStream.Records", "DeliveryStreamName", var.delivery_stream_name, { label = "firehose: read from stream" }],
        [var.metrics_namespace, "RecordsOk", "service", "firehose-transformer", { label = "transformer: ok" }],
        ["AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", var.delivery_stream_name, { label = "firehose: to S3" }],
      ]
    },
    {
      title = "Iterator age (max, ms)"
      stat  = "Maximum"
      metrics = [
        ["AWS/Lambda", "IteratorAge", "FunctionName", local.fn.consumer, { label = "consumer" }],
        ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.stream_name, { label = "stream (all readers)" }],
      ]
    },
    {
      title = "Consumer errors and throttles"
      stat  = "Sum"
      metrics = [
        ["AWS/Lambda", "Errors", "FunctionName", local.fn.consumer, { label = "errors" }],
        ["AWS/Lambda", "Throttles", "FunctionName", local.fn.consumer, { label = "throttles" }],
        [var.metrics_namespace, "RecordsFailed", "service", "consumer", { label = "records reported failed" }],
      ]
    },
    {
      title = "Consumer duration (ms)"
      stat  = "p50"
      metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", local.fn.consumer, { stat = "p50", label = "p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", local.fn.consumer, { stat = "p99", label = "p99" }],
        ["AWS/Lambda", "Duration", "FunctionName", local.fn.consumer, { stat = "Maximum", label = "max" }],
      ]
    },
    {
      title = "Duplicates skipped and records quarantined"
      stat  = "Sum"
      metrics = [
        [var.metrics_namespace, "DuplicatesSkipped", "service", "consumer", { label = "duplicates skipped" }],
        [var.metrics_namespace, "RecordsQuarantined", "service", "consumer", { label = "quarantined" }],
      ]
    },
    {
      title = "Firehose freshness (max, s)"
      stat  = "Maximum"
      metrics = [
        ["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", var.delivery_stream_name, { label = "oldest record not yet in S3" }],
      ]
    },
    {
      title = "Firehose failures"
      stat  = "Sum"
      metrics = [
        [var.metrics_namespace, "RecordsFailed", "service", "firehose-transformer", { label = "transformer: processing failed" }],
        [var.metrics_namespace, "RecordsDropped", "service", "firehose-transformer", { label = "transformer: dropped" }],
        ["AWS/Lambda", "Errors", "FunctionName", local.fn.transformer, { label = "transformer: errors" }],
        ["AWS/Firehose", "DeliveryToS3.Success", "DeliveryStreamName", var.delivery_stream_name, { stat = "Average", label = "S3 delivery success ratio", yAxis = "right" }],
      ]
    },
    {
      title = "API latency (ms)"
      stat  = "p50"
      metrics = [
        ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p50", label = "p50" }],
        ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p99", label = "p99" }],
        ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api_id, { stat = "p99", label = "integration p99" }],
      ]
    },
    {
      title = "API requests, 4xx and 5xx"
      stat  = "Sum"
      metrics = [
        ["AWS/ApiGateway", "Count", "ApiId", var.api_id, { label = "requests" }],
        ["AWS/ApiGateway", "4xx", "ApiId", var.api_id, { label = "4xx" }],
        ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, { label = "5xx" }],
        ["AWS/Lambda", "Errors", "FunctionName", local.fn.api, { label = "function errors" }],
      ]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          view    = "timeSeries"
          stacked = false
          period  = local.period
          stat    = widget.stat
          metrics = widget.metrics
        }
      }
    ]
  })
}
