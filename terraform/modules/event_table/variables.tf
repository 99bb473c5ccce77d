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

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on-demand: no capacity to plan, the dearer unit) or PROVISIONED (capacity that Application Auto Scaling keeps near the target utilisation: cheaper for steady load; `trendstream plan` prices both)."
  type        = string
  default     = "PAY_PER_REQUEST"
}

variable "autoscaling" {
  description = "With PROVISIONED billing: the bounds of read and write capacity units and the utilisation (percent) auto scaling tracks. The table starts at the minimums."
  type = object({
    read_min_capacity          = optional(number, 5)
    read_max_capacity          = optional(number, 1000)
    write_min_capacity         = optional(number, 5)
    write_max_capacity         = optional(number, 4000)
    target_utilization_percent = optional(number, 70)
  })
  default = {}
}
