variable "name" {
  description = "Name of the DynamoDB table holding tweets and per-minute topic statistics."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for server-side encryption of the table."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true; off for throw-away environments."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the table."
  type        = map(string)
  default     = {}
}
