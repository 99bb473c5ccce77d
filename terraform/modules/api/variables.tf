variable "name" {
  description = "Name of the HTTP API; also names its access log group."
  type        = string
}

variable "description" {
  description = "What the API serves, shown in the API Gateway console."
  type        = string
  default     = null
}

variable "function_name" {
  description = "Lambda function the API's catch-all route invokes (granted to API Gateway)."
  type        = string
}

variable "function_arn" {
  description = "Unqualified ARN of that function."
  type        = string

  validation {
    condition     = can(regex("^arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:[^:]+$", var.function_arn))
    error_message = "function_arn must be an unqualified Lambda function ARN."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser; empty leaves CORS off (the page is same-origin)."
  type        = list(string)
  default     = []
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a preflight answer."
  type        = number
  default     = 300

  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be between 0 and 86400."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage accepts across all paths."
  type        = number
  default     = 2
}

variable "throttling_burst_limit" {
  description = "Requests the stage accepts in a burst above the rate."
  type        = number
  default     = 3
}

variable "authorization" {
  description = "Authorization of every route: NONE (public), AWS_IAM (SigV4) or JWT (a JWT authorizer for jwt_issuer and jwt_audience)."
  type = object({
    type         = string
    jwt_issuer   = optional(string)
    jwt_audience = optional(list(string), [])
  })
  default = { type = "NONE" }
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the function (HTTP APIs allow 50 to 30000 ms)."
  type        = number
  default     = 10000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be between 50 and 30000."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for the access log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days the access logs are kept."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource of the API."
  type        = map(string)
  default     = {}
}
