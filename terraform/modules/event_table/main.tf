locals {
  provisioned = var.billing_mode == "PROVISIONED"

  # Application Auto Scaling moves the provisioned capacity between the bounds, after DynamoDB's
  # <Read|Write>CapacityUtilization, so the table pays for about what it uses.
  table_resource = "table/${aws_dynamodb_table.this.name}"
  index_resource = "${local.table_resource}/index/${var.activity_index_name}"
  # The table's reads and writes, and its index's (a provisioned index has capacity of its own),
  # each scaled the same way: keys read, write, index_read, index_write.
  capacity_kinds = {
    read  = { unit = "ReadCapacityUnits", metric = "DynamoDBReadCapacityUtilization", min = var.autoscaling.read_min_capacity, max = var.autoscaling.read_max_capacity }
    write = { unit = "WriteCapacityUnits", metric = "DynamoDBWriteCapacityUtilization", min = var.autoscaling.write_min_capacity, max = var.autoscaling.write_max_capacity }
  }
  scaled_resources = {
    ""       = { kind = "table", resource = local.table_resource }
    "index_" = { kind = "index", resource = local.index_resource }
  }
  scaled_dimensions = local.provisioned ? merge([
    for prefix, target in local.scaled_resources : {
      for key, capacity in local.capacity_kinds : "${prefix}${key}" => {
        resource  = target.resource
        dimension = "dynamodb:${target.kind}:${capacity.unit}"
        metric    = capacity.metric
        min       = capacity.min
        max       = capacity.max
      }
    }
  ]...) : {}
}

# Warm throughput (what a new table takes at once: 4,000 writes/s on demand) has no argument in
# the pinned provider (5.100; the 6.x line added `warm_throughput`). Before a launch at full load,
# pre-warm the table once: `aws dynamodb update-table --table-name <name> --warm-throughput
# ReadUnitsPerSecond=<r>,WriteUnitsPerSecond=<w>` (docs/capacity.md).
resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.provisioned ? var.autoscaling.read_min_capacity : null
  write_capacity              = local.provisioned ? var.autoscaling.write_min_capacity : null
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
    read_capacity   = local.provisioned ? var.autoscaling.read_min_capacity : null
    write_capacity  = local.provisioned ? var.autoscaling.write_min_capacity : null
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

  lifecycle {
    # Auto scaling owns the capacity once the table exists (the index's too, which the provider
    # holds inside global_secondary_index); Terraform sets only the start.
    ignore_changes = [read_capacity, write_capacity, global_secondary_index]
  }
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaled_dimensions

  service_namespace  = "dynamodb"
  resource_id        = each.value.resource
  scalable_dimension = each.value.dimension
  min_capacity       = each.value.min
  max_capacity       = each.value.max
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaled_dimensions

  name               = "${var.name}-${each.key}-target-tracking"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.target_utilization_percent

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}
