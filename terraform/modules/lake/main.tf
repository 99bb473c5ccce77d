locals {
  # The lake's layout: Terraform's one copy (the prefixes output); Python's is tweet_record.lake,
  # and tests/terraform/test_lake_prefixes.py holds the two equal.
  prefixes = {
    tweets     = "tweets/"     # Firehose's delivered rows
    errors     = "errors/"     # Firehose's processing failures
    quarantine = "quarantine/" # records the consumer could never process
  }
  tweets_location = "s3://${aws_s3_bucket.this.bucket}/${local.prefixes.tweets}"
  table_ref       = "\"${aws_glue_catalog_database.this.name}\".\"${aws_glue_catalog_table.tweets.name}\""

  # How Athena reads each storage format: Parquet as Firehose's record format conversion writes it
  # (the table is also the schema of that conversion), or the transformer's JSON lines as they are.
  storage = {
    parquet = {
      classification = "parquet"
      input_format   = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
      output_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
      serde_name     = "parquet"
      serde_library  = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      description    = "Flattened tweets in Parquet (Firehose record format conversion), partitioned by delivery hour."
    }
    ndjson = {
      classification = "json"
      input_format   = "org.apache.hadoop.mapred.TextInputFormat"
      output_format  = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
      serde_name     = "openx-json"
      serde_library  = "org.openx.data.jsonserde.JsonSerDe"
      description    = "Flattened tweets, newline-delimited JSON, partitioned by delivery hour."
    }
  }[var.storage_format]

  # The flattened tweet the transformer writes, one JSON object per line (docs/data-model.md, "The lake").
  tweet_columns = [
    { name = "tweet_id", type = "string", comment = "X tweet id (decimal string)" },
    { name = "created_at", type = "string", comment = "ISO 8601 UTC, as the X API returns it" },
    { name = "text", type = "string", comment = "" },
    { name = "lang", type = "string", comment = "BCP 47 language tag detected by X" },
    { name = "topic", type = "string", comment = "trend name or configured query" },
    { name = "topic_kind", type = "string", comment = "trend or query" },
    { name = "author_id", type = "string", comment = "" },
    { name = "author_username", type = "string", comment = "" },
    { name = "author_name", type = "string", comment = "" },
    { name = "author_followers", type = "bigint", comment = "" },
    { name = "hashtags", type = "array<string>", comment = "" },
    { name = "mentions", type = "array<string>", comment = "" },
    { name = "urls", type = "array<string>", comment = "expanded URLs" },
    { name = "retweet_count", type = "bigint", comment = "" },
    { name = "reply_count", type = "bigint", comment = "" },
    { name = "like_count", type = "bigint", comment = "" },
    { name = "quote_count", type = "bigint", comment = "" },
    { name = "sentiment", type = "string", comment = "POSITIVE, NEGATIVE, NEUTRAL or MIXED" },
    { name = "fetched_at", type = "string", comment = "ISO 8601 UTC time the producer read the tweet" },
  ]

  # Partition values are the delivery time Firehose puts in the object prefix; projection lets
  # Athena compute them instead of reading them from the catalog.
  partition_projection = {
    "projection.enabled"        = "true"
    "projection.year.type"      = "integer"
    "projection.year.range"     = var.projection_year_range
    "projection.month.type"     = "integer"
    "projection.month.range"    = "1,12"
    "projection.month.digits"   = "2"
    "projection.day.type"       = "integer"
    "projection.day.range"      = "1,31"
    "projection.day.digits"     = "2"
    "projection.hour.type"      = "integer"
    "projection.hour.range"     = "0,23"
    "projection.hour.digits"    = "2"
    "storage.location.template" = "${local.tweets_location}year=$${year}/month=$${month}/day=$${day}/hour=$${hour}/"
  }

  # Predicates on the partition columns first, so Athena reads only the hours the query needs.
  last_hour_partitions = "concat(year, month, day, hour) >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y%m%d%H')"
  last_day_partitions  = "concat(year, month, day, hour) >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y%m%d%H')"

  # Firehose delivers at least once, so every query counts distinct tweet ids.
  named_queries = {
    top-topics-last-hour = {
      description = "Topics with the most distinct tweets created in the last hour."
      query       = <<-SQL
        SELECT topic, topic_kind, count(DISTINCT tweet_id) AS tweets
        FROM ${local.table_ref}
        WHERE ${local.last_hour_partitions}
          AND from_iso8601_timestamp(created_at) >= current_timestamp - INTERVAL '1' HOUR
        GROUP BY topic, topic_kind
        ORDER BY tweets DESC
        LIMIT 20
      SQL
    }
    sentiment-by-topic = {
      description = "Distinct tweets per sentiment for each topic over the last 24 hours."
      query       = <<-SQL
        SELECT topic,
               count(DISTINCT tweet_id) AS tweets,
               count(DISTINCT CASE WHEN upper(sentiment) = 'POSITIVE' THEN tweet_id END) AS positive,
               count(DISTINCT CASE WHEN upper(sentiment) = 'NEGATIVE' THEN tweet_id END) AS negative,
               count(DISTINCT CASE WHEN upper(sentiment) = 'NEUTRAL' THEN tweet_id END) AS neutral,
               count(DISTINCT CASE WHEN upper(sentiment) = 'MIXED' THEN tweet_id END) AS mixed
        FROM ${local.table_ref}
        WHERE ${local.last_day_partitions}
        GROUP BY topic
        ORDER BY tweets DESC
      SQL
    }
    top-hashtags = {
      description = "Most used hashtags (case-insensitive) over the last 24 hours."
      query       = <<-SQL
        SELECT lower(hashtag) AS hashtag, count(DISTINCT tweet_id) AS tweets
        FROM ${local.table_ref}
        CROSS JOIN UNNEST(hashtags) AS t (hashtag)
        WHERE ${local.last_day_partitions}
        GROUP BY lower(hashtag)
        ORDER BY tweets DESC
        LIMIT 20
      SQL
    }
    most-engaged-tweets = {
      description = "Tweets with the most likes, retweets, replies and quotes over the last 24 hours."
      query       = <<-SQL
        SELECT tweet_id,
               max(author_username) AS author_username,
               max(topic) AS topic,
               max(text) AS text,
               max(like_count + retweet_count + reply_count + quote_count) AS engagement
        FROM ${local.table_ref}
        WHERE ${local.last_day_partitions}
        GROUP BY tweet_id
        ORDER BY engagement DESC
        LIMIT 20
      SQL
    }
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a second bucket with its own lifecycle; CloudTrail data events are the audit trail of choice for a data lake and are account-level.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery decision per deployment; the raw stream can be replayed within its retention.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object-created events: Athena reads through partition projection.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyRequestsWithoutTLS"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # A policy put while the public access block is being created can be rejected as public.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-delivery-errors"
    status = "Enabled"

    filter {
      prefix = local.prefixes.errors
    }

    expiration {
      days = var.error_retention_days
    }
  }

  rule {
    id     = "expire-quarantine"
    status = "Enabled"

    filter {
      prefix = local.prefixes.quarantine
    }

    expiration {
      days = var.quarantine_retention_days
    }
  }

  rule {
    id     = "expire-athena-results"
    status = "Enabled"

    filter {
      prefix = "athena-results/"
    }

    expiration {
      days = var.athena_results_retention_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions-and-abandoned-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # Lifecycle rules on an unversioned bucket would not see noncurrent versions.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_glue_catalog_database" "this" {
  name        = var.glue_database_name
  description = "Tweets delivered by Firehose to s3://${aws_s3_bucket.this.bucket}/${local.prefixes.tweets}"
  tags        = var.tags
}

resource "aws_glue_catalog_table" "tweets" {
  name          = var.glue_table_name
  database_name = aws_glue_catalog_database.this.name
  description   = local.storage.description
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(local.partition_projection, {
    "classification" = local.storage.classification
    "EXTERNAL"       = "TRUE"
  })

  dynamic "partition_keys" {
    for_each = ["year", "month", "day", "hour"]

    content {
      name = partition_keys.value
      type = "string"
    }
  }

  storage_descriptor {
    location      = local.tweets_location
    input_format  = local.storage.input_format
    output_format = local.storage.output_format

    ser_de_info {
      name                  = local.storage.serde_name
      serialization_library = local.storage.serde_library
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = local.tweet_columns

      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment == "" ? null : columns.value.comment
      }
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name        = var.athena_workgroup_name
  description = "Queries over the tweet lake; results encrypted in the lake bucket."
  # AWS refuses to delete a workgroup that holds named queries or query history unless asked to
  # delete its contents (DeleteWorkGroup's RecursiveDeleteOption), and every workgroup that was
  # used holds history. Nothing in it is data: the results stay in the bucket, which keeps its
  # own protection (force_destroy).
  # https://docs.aws.amazon.com/athena/latest/APIReference/API_DeleteWorkGroup.html
  force_destroy = true
  tags          = var.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true

    result_configuration {
      output_location = "s3://${aws_s3_bucket.this.bucket}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

resource "aws_athena_named_query" "this" {
  for_each = local.named_queries

  name        = each.key
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.id
  database    = aws_glue_catalog_database.this.name
  query       = each.value.query
}
