variable "name" {
  description = "Name of the Kinesis data stream."
  type        = string
}

variable "stream_mode" {
  description = "ON_DEMAND scales shards automatically; PROVISIONED uses shard_count."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  description = "Number of shards when stream_mode is PROVISIONED (ignored for ON_DEMAND)."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be a whole number of at least 1."
  }
}

variable "retention_hours" {
  description = "Hours records stay readable in the stream."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "Kinesis retention must be between 24 and 8760 hours."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key that encrypts the records at rest."
  type        = string
}

variable "tags" {
  description = "Tags for the stream."
  type        = map(string)
  default     = {}
}
