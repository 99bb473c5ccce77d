variable "name" {
  description = "Name of the DynamoDB table holding tweets and per-minute topic statistics."
  type        = string
}

variable "activity_index_name" {
  description = "Name of the sparse index listing the topics active in each hour (tweet_record.activity.ACTIVITY_INDEX in the functions)."
  type        = string
  default     = "ActiveTopicsByHour"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.activity_index_name))
    error_message = "An index name is 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'."
  }
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
