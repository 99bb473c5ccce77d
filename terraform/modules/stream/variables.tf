variable "name" {
  description = "Name of the Kinesis data stream."
  type        = string
}

variable "stream_mode" {
  description = "ON_DEMAND scales shards automatically; PROVISIONED uses shard_count."
  type        = string
  default     = "ON_DEMAND"
}

variable "shard_count" {
  description = "Number of shards when stream_mode is PROVISIONED (ignored for ON_DEMAND)."
  type        = number
  default     = 1
}

variable "retention_hours" {
  description = "Hours records stay readable in the stream."
  type        = number
  default     = 24
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
