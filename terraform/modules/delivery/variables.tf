variable "name" {
  description = "Name of the Firehose delivery stream; also names its role and log group."
  type        = string
}

variable "source_stream_arn" {
  description = "Kinesis data stream Firehose reads from."
  type        = string
}

variable "bucket_arn" {
  description = "Lake bucket Firehose writes tweets/ and errors/ to."
  type        = string
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
  description = "Megabytes Firehose buffers before writing an object."
  type        = number
  default     = 5

  validation {
    condition     = var.buffering_size_mb >= 1 && var.buffering_size_mb <= 128
    error_message = "Firehose buffers 1 to 128 MB."
  }
}

variable "buffering_interval_seconds" {
  description = "Seconds Firehose buffers before writing an object."
  type        = number
  default     = 300

  validation {
    condition     = var.buffering_interval_seconds >= 0 && var.buffering_interval_seconds <= 900
    error_message = "Firehose buffers 0 to 900 seconds."
  }
}

variable "compression_format" {
  description = "Compression of the objects written (Athena reads each of these)."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(["UNCOMPRESSED", "GZIP"], var.compression_format)
    error_message = "compression_format must be UNCOMPRESSED or GZIP (the JSON SerDe reads both)."
  }
}

variable "log_retention_days" {
  description = "Days delivery error logs are kept."
  type        = number
  default     = 30
}

variable "region" {
  description = "Region of the stack: names the services (kms:ViaService) that may use the key for Firehose."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be a region code such as us-east-1."
  }
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
