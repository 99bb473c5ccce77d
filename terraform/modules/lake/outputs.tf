output "bucket_name" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefixes" {
  description = "The lake's top-level prefixes by what they hold: tweets (delivered rows), errors (Firehose's processing failures), quarantine (the consumer's unprocessable records)."
  value       = local.prefixes
}

output "glue_database_name" {
  description = "Glue database of the lake."
  value       = aws_glue_catalog_database.this.name
}

output "glue_table_name" {
  description = "Glue table over tweets/."
  value       = aws_glue_catalog_table.tweets.name
}

output "athena_workgroup_name" {
  description = "Athena workgroup for queries over the lake."
  value       = aws_athena_workgroup.this.name
}

output "named_query_ids" {
  description = "Athena named query ids by query name."
  value       = { for name, query in aws_athena_named_query.this : name => query.id }
}
