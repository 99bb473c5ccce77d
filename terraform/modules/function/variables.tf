variable "function_name" {
  description = "Name of the function; also names its role, log group and dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,60}$", var.function_name))
    error_message = "Use up to 60 letters, digits, - and _ (the role and queue names append to it)."
  }
}

variable "description" {
  description = "What the function does, shown in the Lambda console."
  type        = string
}

variable "artifact_path" {
  description = "Path of the deployment zip (app.py at its root)."
  type        = string

  validation {
    condition     = endswith(var.artifact_path, ".zip")
    error_message = "artifact_path must name a .zip file."
  }
}

variable "handler" {
  description = "Entry point inside the zip."
  type        = string
  default     = "app.lambda_handler"
}

variable "runtime" {
  description = "Lambda runtime identifier."
  type        = string
  default     = "python3.11"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "The functions are Python: use a python3.x runtime."
  }
}

variable "timeout_seconds" {
  description = "Maximum run time of one invocation."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "Lambda timeouts are 1 to 900 seconds."
  }
}

variable "memory_mb" {
  description = "Memory (and proportional CPU) of the function."
  type        = number
  default     = 256
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function; -1 leaves it unreserved."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "Use -1 (unreserved) or a non-negative number."
  }
}

variable "environment_variables" {
  description = "Environment of the function (docs/data-model.md, \"The functions' environment\")."
  type        = map(string)

  # Lambda refuses an environment above 4 KB in aggregate, but only when the function is created
  # or updated: measured here as the bytes of its JSON, a little more than the names and values
  # (Terraform counts characters: three bytes per four base64 characters, less the padding).
  # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
  validation {
    condition = (
      length(base64encode(jsonencode(var.environment_variables))) * 3 / 4 -
      length(regexall("=", base64encode(jsonencode(var.environment_variables))))
    ) <= 4096
    error_message = "The function's environment, as JSON, must fit Lambda's 4 KB (4096 bytes) limit."
  }
}

variable "async_invocation" {
  description = "Asynchronous invocation settings (retries of a failed event, and how long an event may wait for a run); null leaves Lambda's defaults (2 retries, 6 hours)."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })
  default = null

  validation {
    condition = var.async_invocation == null || try(
      var.async_invocation.maximum_retry_attempts >= 0 && var.async_invocation.maximum_retry_attempts <= 2 &&
      floor(var.async_invocation.maximum_retry_attempts) == var.async_invocation.maximum_retry_attempts &&
      var.async_invocation.maximum_event_age_in_seconds >= 60 && var.async_invocation.maximum_event_age_in_seconds <= 21600 &&
      floor(var.async_invocation.maximum_event_age_in_seconds) == var.async_invocation.maximum_event_age_in_seconds,
      false,
    )
    error_message = "Lambda accepts 0 to 2 retry attempts and a maximum event age of 60 to 21600 seconds, in whole numbers."
  }
}

variable "policy_statements" {
  description = "Allow statements the function needs besides its own logs, X-Ray and key; exact ARNs."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition = alltrue([
      for statement in var.policy_statements :
      length(statement.actions) > 0 && length(statement.resources) > 0 &&
      alltrue([for action in statement.actions : !strcontains(action, "*")])
    ])
    error_message = "Every statement needs actions and resources, and actions must not use wildcards."
  }
}

variable "create_dead_letter_queue" {
  description = "Create an SQS dead-letter queue for failed asynchronous invocations."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed key for the log group, environment variables and dead-letter queue."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 30
}

variable "region" {
  description = "Region of the function: names the services (kms:ViaService) that may use its key grants."
  type        = string
}

variable "account_id" {
  description = "Account whose Lambda service may assume the role (confused-deputy guard)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the function."
  type        = map(string)
  default     = {}
}
