locals {
  log_group_name  = "/aws/kinesisfirehose/${var.name}"
  log_stream_name = "DestinationDelivery"

  # Where Firehose writes: delivered records (prefix) and processing failures (error_output_prefix).
  object_prefixes = [var.prefixes.tweets, var.prefixes.errors]
  partitions      = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  # With record format conversion the Parquet serializer compresses and S3 compression must be
  # off ("Enable record format conversion", Amazon Data Firehose developer guide).
  converts = var.parquet_conversion != null
  glue_arns = local.converts ? [
    "arn:aws:glue:${var.region}:${var.account_id}:catalog",
    "arn:aws:glue:${var.region}:${var.account_id}:database/${var.parquet_conversion.database_name}",
    "arn:aws:glue:${var.region}:${var.account_id}:table/${var.parquet_conversion.database_name}/${var.parquet_conversion.table_name}",
  ] : []
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (operational logs, 30 days by default); raise it where an audit rule asks for a year.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  name           = local.log_stream_name
  log_group_name = aws_cloudwatch_log_group.this.name
}

resource "aws_iam_role" "this" {
  name        = "${var.name}-firehose"
  description = "Role Firehose assumes to read ${var.name}'s source stream and write the lake."
  tags        = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "firehose.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "sts:ExternalId" = var.account_id } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-firehose-least-privilege"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ReadSourceStream"
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
        Resource = [var.source_stream_arn]
      },
      {
        # Firehose writes delivered records and failures under their two prefixes, nothing else.
        Sid      = "WriteLakeObjects"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
        Resource = [for prefix in local.object_prefixes : "${var.bucket_arn}/${prefix}*"]
      },
      {
        Sid      = "LocateLakeBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
        Resource = [var.bucket_arn]
      },
      {
        Sid      = "InvokeTransformer"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
        Resource = [var.transformer_function_arn]
      },
      {
        Sid      = "WriteDeliveryLogs"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this.arn}:log-stream:${local.log_stream_name}"]
      },
      {
        # Decrypts the KMS-encrypted source stream and encrypts the objects it writes: through
        # Kinesis and S3 only.
        Sid      = "UseStackKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = {
            "kms:ViaService" = ["kinesis.${var.region}.amazonaws.com", "s3.${var.region}.amazonaws.com"]
          }
        }
      },
      ], local.converts ? [
      {
        # Record format conversion reads the table's schema ("Grant Firehose access to AWS Glue
        # for data format conversion", Amazon Data Firehose developer guide).
        Sid      = "ReadConversionSchema"
        Effect   = "Allow"
        Action   = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
        Resource = local.glue_arns
      },
    ] : [])
  })
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  #checkov:skip=CKV_AWS_240:Server-side encryption of a delivery stream applies only to Direct PUT sources; this one reads a KMS-encrypted Kinesis stream and writes SSE-KMS objects.
  #checkov:skip=CKV_AWS_241:Same as CKV_AWS_240: records stay encrypted with the stack's CMK in the source stream and in S3.
  name        = var.name
  destination = "extended_s3"
  tags        = var.tags

  kinesis_source_configuration {
    kinesis_stream_arn = var.source_stream_arn
    role_arn           = aws_iam_role.this.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.this.arn
    bucket_arn          = var.bucket_arn
    prefix              = "${var.prefixes.tweets}${local.partitions}"
    error_output_prefix = "${var.prefixes.errors}!{firehose:error-output-type}/${local.partitions}"
    buffering_size      = var.buffering_size_mb
    buffering_interval  = var.buffering_interval_seconds
    compression_format  = local.converts ? "UNCOMPRESSED" : var.compression_format
    kms_key_arn         = var.kms_key_arn

    # Only the function ARN: BufferSizeInMBs=1 and BufferIntervalInSeconds=60 are the service
    # defaults and, when written out, the API omits them and every plan shows a diff.
    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = var.transformer_function_arn
        }
      }
    }

    # The transformer's JSON lines become Parquet, typed by the Glue table's columns. Records that
    # do not convert go to errors/format-conversion-failed/, their raw data kept.
    dynamic "data_format_conversion_configuration" {
      for_each = local.converts ? [var.parquet_conversion] : []

      content {
        enabled = true

        input_format_configuration {
          deserializer {
            open_x_json_ser_de {}
          }
        }

        output_format_configuration {
          serializer {
            parquet_ser_de {
              compression = data_format_conversion_configuration.value.compression
            }
          }
        }

        schema_configuration {
          database_name = data_format_conversion_configuration.value.database_name
          table_name    = data_format_conversion_configuration.value.table_name
          role_arn      = aws_iam_role.this.arn
          region        = var.region
          catalog_id    = var.account_id
          version_id    = "LATEST"
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this.name
      log_stream_name = aws_cloudwatch_log_stream.this.name
    }
  }

  # Firehose checks its role's permissions when the stream is created.
  depends_on = [aws_iam_role_policy.this]
}
