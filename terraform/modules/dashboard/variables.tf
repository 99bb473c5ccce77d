variable "name" {
  description = "Name of the dashboard."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "A dashboard name is 1 to 255 letters, digits, '-' or '_'."
  }
}

variable "region" {
  description = "Region whose metrics the widgets show."
  type        = string
}

variable "stream_name" {
  description = "Kinesis data stream of the pipeline."
  type        = string
}

variable "delivery_stream_name" {
  description = "Firehose delivery stream into the lake."
  type        = string
}

variable "function_names" {
  description = "Function names by role."
  type = object({
    producer    = string
    consumer    = string
    transformer = string
    api         = string
  })
}

variable "api_id" {
  description = "Id of the read API (HTTP API)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' Powertools metrics (POWERTOOLS_METRICS_NAMESPACE), one per environment."
  type        = string

  # The characters Amazon CloudWatch concepts lists for namespaces, up to 255; AWS/ is AWS's own.
  validation {
    condition     = can(regex("^[0-9A-Za-z._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits and . - _ / # : or spaces, not starting with AWS/."
  }
}

variable "period_seconds" {
  description = "Aggregation period of every widget."
  type        = number
  default     = 60

  validation {
    condition     = contains([10, 30], var.period_seconds) || (var.period_seconds >= 60 && var.period_seconds % 60 == 0)
    error_message = "period_seconds must be 10, 30 or a multiple of 60."
  }
}
