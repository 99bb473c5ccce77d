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
}

variable "batch_size" {
  description = "Maximum records per invocation."
  type        = number
  default     = 100
}

variable "maximum_batching_window_seconds" {
  description = "Seconds the mapping may wait to fill a batch."
  type        = number
  default     = 1
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
}

variable "maximum_record_age_seconds" {
  description = "Age after which a record is sent to the on-failure queue instead of processed."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags for the queue."
  type        = map(string)
  default     = {}
}
