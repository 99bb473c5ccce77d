variable "name" {
  description = "Name of the Firehose delivery stream; also names its role and log group."
  type        = string
}

variable "source_stream_arn" {
  description = "Kinesis data stream Firehose reads from."
  type        = string
}

variable "bucket_arn" {
  description = "Lake bucket Firehose writes to."
  type        = string
}

variable "prefixes" {
  description = "Lake prefixes (the lake module's prefixes output): delivered rows under tweets, processing failures under errors; each ends in a slash."
  type = object({
    tweets = string
    errors = string
  })
}

variable "transformer_function_arn" {
  description = "Unqualified ARN of the Lambda that flattens each record."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key of the source stream, the objects written and the log group."
  type        = string
}

variable "buffering_size_mb" {
  description = "Megabytes Firehose buffers before writing an object (at least 64 with Parquet conversion)."
  type        = number
  default     = 128
}

variable "buffering_interval_seconds" {
  description = "Seconds Firehose buffers before writing an object."
  type        = number
  default     = 300
}

variable "parquet_conversion" {
  description = "Convert the transformer's JSON lines to Parquet with this Glue table's schema and this Parquet compression; null delivers the JSON lines as they are."
  type = object({
    database_name = string
    table_name    = string
    compression   = string
  })
  default = null

  validation {
    condition     = var.parquet_conversion == null || contains(["SNAPPY", "GZIP", "UNCOMPRESSED"], try(var.parquet_conversion.compression, ""))
    error_message = "Firehose's Parquet serializer compresses with SNAPPY, GZIP or UNCOMPRESSED."
  }
}

variable "compression_format" {
  description = "Compression of the JSON objects written when there is no Parquet conversion (Athena reads each of these)."
  type        = string
  default     = "GZIP"
}

variable "log_retention_days" {
  description = "Days delivery error logs are kept."
  type        = number
  default     = 30
}

variable "region" {
  description = "Region of the stack: names the services (kms:ViaService) that may use the key for Firehose."
  type        = string
}

variable "account_id" {
  description = "Account id Firehose passes as external id when assuming the role."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the delivery stream."
  type        = map(string)
  default     = {}
}
