variable "alias" {
  description = "Alias of the key, without the alias/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]+$", var.alias)) && !startswith(var.alias, "aws/")
    error_message = "The alias may contain only letters, digits, /, _ and -, and must not start with aws/."
  }
}

variable "description" {
  description = "What the key protects, shown in the KMS console."
  type        = string
}

variable "account_id" {
  description = "Account that owns the key; its root principal administers it."
  type        = string
}

variable "partition" {
  description = "AWS partition of the account (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "region" {
  description = "Region of the key; CloudWatch Logs is granted use of it through its regional principal."
  type        = string
}

variable "log_group_name_prefixes" {
  description = "Name prefixes of the log groups CloudWatch Logs may encrypt with the key."
  type        = list(string)

  validation {
    condition     = length(var.log_group_name_prefixes) > 0
    error_message = "Give at least one log group name prefix."
  }
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits before the key is destroyed."
  type        = number
  default     = 7

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "KMS accepts a deletion window of 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
