variable "name" {
  description = "Name of the EventBridge rule."
  type        = string
}

variable "description" {
  description = "What the schedule triggers."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge schedule: rate(...) or cron(...)."
  type        = string
}

variable "enabled" {
  description = "Whether the schedule fires."
  type        = bool
  default     = true
}

variable "maximum_event_age_seconds" {
  description = "How long EventBridge keeps retrying one scheduled invocation."
  type        = number
  default     = 240

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 86400
    error_message = "EventBridge accepts 60 to 86400 seconds."
  }
}

variable "function_name" {
  description = "Name of the function the schedule invokes (for the invoke permission)."
  type        = string
}

variable "function_arn" {
  description = "ARN of the function the schedule invokes."
  type        = string
}

variable "tags" {
  description = "Tags for the rule."
  type        = map(string)
  default     = {}
}
