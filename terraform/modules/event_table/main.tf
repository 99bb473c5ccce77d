resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "active_hour"
    type = "S"
  }

  # Sparse: only the per-minute stats carry active_hour (the consumer SETs it in the update that
  # counts them), so this index lists which topics were active in each hour and nothing else.
  # Keys only: a stats update that changes the counters and not the keys writes nothing to it,
  # so the index costs one write per new (topic, minute) item (src/tweet_record/activity.py).
  global_secondary_index {
    name            = var.activity_index_name
    hash_key        = "active_hour"
    range_key       = "sk"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }
}
