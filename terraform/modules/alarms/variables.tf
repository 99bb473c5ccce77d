variable "name" {
  description = "Prefix of the topic and alarm names."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the alarm topic."
  type        = string
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirmation required); null for none."
  type        = string
  default     = null
}

variable "function_names" {
  description = "Functions watched for Errors and Throttles, by short key (producer, consumer, ...)."
  type        = map(string)
}

variable "consumer_function_name" {
  description = "Stream consumer watched for IteratorAge."
  type        = string
}

variable "producer_function_name" {
  description = "Producer whose own metrics (TweetsFetched, AllFetchesFailed, CredentialsNotSet) are watched; null for none."
  type        = string
  default     = null
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

variable "producer_service_name" {
  description = "The producer's POWERTOOLS_SERVICE_NAME: Powertools puts it in the service dimension."
  type        = string
  default     = "producer"
}

variable "producer_period_seconds" {
  description = "Seconds between scheduled producer runs: one alarm period per run."
  type        = number
  default     = 300

  validation {
    condition     = var.producer_period_seconds >= 60 && var.producer_period_seconds % 60 == 0 && var.producer_period_seconds <= 86400
    error_message = "producer_period_seconds must be a multiple of 60 up to 86400."
  }
}

variable "producer_idle_alarm_runs" {
  description = "Consecutive runs without a fetched tweet before producer-no-tweets fires."
  type        = number
  default     = 3
}

variable "http_api" {
  description = "HTTP API (API Gateway v2) watched for server errors (5xx): its id and stage name; null for none."
  type = object({
    id    = string
    stage = string
  })
  default = null
}

variable "queue_names" {
  description = "Failure queues that must stay empty, by short key."
  type        = map(string)
}

variable "stream_name" {
  description = "Kinesis stream whose readers (the consumer's event source mapping, Firehose) must keep reading while records arrive; null for no reader alarms."
  type        = string
  default     = null
}

variable "stream_reader_evaluation_periods" {
  description = "Consecutive periods in which records arrived and a reader read none before its alarm fires (more than one: a batch put at a period's end is read in the next)."
  type        = number
  default     = 3

  validation {
    condition     = var.stream_reader_evaluation_periods >= 2 && floor(var.stream_reader_evaluation_periods) == var.stream_reader_evaluation_periods
    error_message = "stream_reader_evaluation_periods must be a whole number of at least 2."
  }

  validation {
    condition     = var.stream_reader_evaluation_periods * var.period_seconds <= 86400
    error_message = "stream_reader_evaluation_periods x period_seconds must not exceed 86400: CloudWatch evaluates an alarm over at most one day."
  }
}

variable "delivery_stream_name" {
  description = "Firehose delivery stream watched for freshness and S3 delivery success."
  type        = string
}

variable "iterator_age_threshold_ms" {
  description = "Consumer lag, in milliseconds, above which the stack alarms."
  type        = number
  default     = 60000
}

variable "data_freshness_threshold_seconds" {
  description = "Age of the oldest undelivered Firehose record that alarms; above the buffering interval."
  type        = number
  default     = 900

  validation {
    condition     = var.data_freshness_threshold_seconds > 0
    error_message = "data_freshness_threshold_seconds must be positive."
  }
}

variable "period_seconds" {
  description = "Period over which each metric is aggregated."
  type        = number
  default     = 300

  validation {
    condition     = contains([10, 30], var.period_seconds) || (var.period_seconds >= 60 && var.period_seconds % 60 == 0)
    error_message = "period_seconds must be 10, 30 or a multiple of 60 (CloudWatch's alarm periods)."
  }
}

variable "evaluation_periods" {
  description = "Consecutive breaching periods before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.evaluation_periods >= 1 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number of at least 1."
  }

  validation {
    condition     = var.evaluation_periods * var.period_seconds <= 86400
    error_message = "evaluation_periods x period_seconds must not exceed 86400: CloudWatch evaluates an alarm over at most one day."
  }
}

variable "tags" {
  description = "Tags for the topic and alarms."
  type        = map(string)
  default     = {}
}
