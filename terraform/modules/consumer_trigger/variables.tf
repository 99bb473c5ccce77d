variable "name" {
  description = "Name prefix of the on-failure queue."
  type        = string
}

variable "stream_arn" {
  description = "Kinesis data stream the consumer reads."
  type        = string
}

variable "function_arn" {
  description = "Consumer function the mapping invokes."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key of the on-failure queue."
  type        = string
}

variable "starting_position" {
  description = "Where a new mapping starts reading: LATEST or TRIM_HORIZON."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "batch_size" {
  description = "Maximum records per invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "Kinesis batches hold 1 to 10000 records."
  }
}

variable "maximum_batching_window_seconds" {
  description = "Seconds the mapping may wait to fill a batch."
  type        = number
  default     = 1

  validation {
    condition     = var.maximum_batching_window_seconds >= 0 && var.maximum_batching_window_seconds <= 300
    error_message = "The batching window is 0 to 300 seconds."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Split a failing batch in two and retry each half, to isolate poison records."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the on-failure queue."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000
    error_message = "Retries must be bounded: 0 to 10000 (-1, infinite, would block the shard)."
  }
}

variable "maximum_record_age_seconds" {
  description = "Age after which a record is sent to the on-failure queue instead of processed."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_record_age_seconds >= 60 && var.maximum_record_age_seconds <= 604800
    error_message = "Record age must be bounded: 60 to 604800 seconds (-1, infinite, is refused)."
  }
}

variable "tags" {
  description = "Tags for the queue."
  type        = map(string)
  default     = {}
}
