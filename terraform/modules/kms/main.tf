locals {
  account_root_arn = "arn:${var.partition}:iam::${var.account_id}:root"

  # Every log group of the stack is named under one of these prefixes; CloudWatch Logs may use the
  # key only for them.
  log_group_arn_patterns = [
    for prefix in var.log_group_name_prefixes :
    "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${prefix}*"
  ]

  # The key policy is the only place that can grant a service principal use of the key; IAM roles
  # of the stack get their key permissions from their own policies through the root statement.
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountRootManagesTheKey"
        Effect    = "Allow"
        Principal = { AWS = local.account_root_arn }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheStackLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:DescribeKey",
        ]
        Resource = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn_patterns }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
    ]
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
