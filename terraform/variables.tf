# ---------------------------------------------------------------------------------------------
# Identity and target
# ---------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment name, part of every resource name; \"local\" is the emulator stack."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters and digits, starting with a letter (e.g. local, dev, prod)."
  }
}

variable "name_prefix" {
  description = "First part of every resource name."
  type        = string
  default     = "trendstream"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-21 lowercase letters, digits and hyphens (it is part of the bucket name)."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be a region code such as us-east-1."
  }
}

variable "local_endpoint" {
  description = "Endpoint of a local AWS emulator (http://127.0.0.1:4566); null deploys to real AWS."
  type        = string
  default     = null

  validation {
    condition     = var.local_endpoint == null || can(regex("^https?://[^/]+/?$", var.local_endpoint))
    error_message = "local_endpoint must be a URL such as http://127.0.0.1:4566, or null."
  }
}

variable "tags" {
  description = "Tags added to every resource, on top of Project, Environment and ManagedBy."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Let destroy delete a non-empty lake bucket and the table (deletion protection off); always on for local. The Athena workgroup's query history is deleted either way."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Stream and consumer
# ---------------------------------------------------------------------------------------------

variable "stream_mode" {
  description = "Kinesis capacity mode: ON_DEMAND or PROVISIONED."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "stream_shard_count" {
  description = "Shards when stream_mode is PROVISIONED."
  type        = number
  default     = 1

  validation {
    condition     = var.stream_shard_count >= 1 && floor(var.stream_shard_count) == var.stream_shard_count
    error_message = "stream_shard_count must be a whole number of at least 1."
  }
}

variable "stream_retention_hours" {
  description = "Hours records stay readable in the stream (replay window)."
  type        = number
  default     = 24

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "Kinesis retention must be between 24 and 8760 hours."
  }
}

variable "consumer_starting_position" {
  description = "Where the consumer's event source mapping starts: LATEST or TRIM_HORIZON."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.consumer_starting_position)
    error_message = "consumer_starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "consumer_batch_size" {
  description = "Maximum records per consumer invocation; bigger batches share each minute's stats update between more tweets (docs/capacity.md)."
  type        = number
  default     = 500

  validation {
    condition     = var.consumer_batch_size >= 1 && var.consumer_batch_size <= 10000
    error_message = "consumer_batch_size must be 1 to 10000."
  }
}

variable "consumer_memory_mb" {
  description = "Consumer memory in MB, which also sets its CPU share (1,769 MB is one vCPU); the consumer is CPU-bound, so above a few hundred tweets/s more memory means fewer shards (trendstream plan, docs/capacity.md)."
  type        = number
  default     = 512

  validation {
    condition     = var.consumer_memory_mb >= 128 && var.consumer_memory_mb <= 10240 && floor(var.consumer_memory_mb) == var.consumer_memory_mb
    error_message = "consumer_memory_mb must be a whole number of MB from 128 to 10240 (Lambda's range)."
  }
}

variable "consumer_batching_window_seconds" {
  description = "Seconds the mapping waits to fill a batch."
  type        = number
  default     = 1

  validation {
    condition     = var.consumer_batching_window_seconds >= 0 && var.consumer_batching_window_seconds <= 300
    error_message = "consumer_batching_window_seconds must be 0 to 300."
  }
}

variable "consumer_bisect_batch_on_function_error" {
  description = "Split a failing batch to isolate poison records."
  type        = bool
  default     = true
}

variable "consumer_maximum_retry_attempts" {
  description = "Retries of a failing batch before it is sent to the on-failure queue."
  type        = number
  default     = 3

  validation {
    condition     = var.consumer_maximum_retry_attempts >= 0 && var.consumer_maximum_retry_attempts <= 10000
    error_message = "consumer_maximum_retry_attempts must be bounded: 0 to 10000."
  }
}

variable "consumer_maximum_record_age_seconds" {
  description = "Record age after which the consumer skips to the on-failure queue."
  type        = number
  default     = 3600

  validation {
    condition     = var.consumer_maximum_record_age_seconds >= 60 && var.consumer_maximum_record_age_seconds <= 604800
    error_message = "consumer_maximum_record_age_seconds must be bounded: 60 to 604800."
  }
}

variable "ttl_days" {
  description = "Days tweet and statistics items live in the table before DynamoDB expires them (TTL_DAYS)."
  type        = number
  default     = 7

  validation {
    condition     = var.ttl_days >= 1 && var.ttl_days <= 3650 && floor(var.ttl_days) == var.ttl_days
    error_message = "ttl_days must be a whole number from 1 to 3650."
  }
}

variable "table_billing_mode" {
  description = "The EventData table's billing mode: PAY_PER_REQUEST (on-demand) or PROVISIONED with auto scaling (table_autoscaling). `trendstream plan` prices both and recommends one for the load."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.table_billing_mode)
    error_message = "table_billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "table_autoscaling" {
  description = "With PROVISIONED billing: read and write capacity bounds and the target utilisation percent; the table starts at the minimums."
  type = object({
    read_min_capacity          = optional(number, 5)
    read_max_capacity          = optional(number, 1000)
    write_min_capacity         = optional(number, 5)
    write_max_capacity         = optional(number, 4000)
    target_utilization_percent = optional(number, 70)
  })
  default = {}

  validation {
    condition = alltrue([
      for bound in [var.table_autoscaling.read_min_capacity, var.table_autoscaling.read_max_capacity, var.table_autoscaling.write_min_capacity, var.table_autoscaling.write_max_capacity] :
      bound >= 1 && bound <= 1000000 && floor(bound) == bound
    ])
    error_message = "Capacity bounds must be whole numbers from 1 to 1000000 (past the default per-table quota of 40,000, raise the quota first)."
  }

  validation {
    condition = (
      var.table_autoscaling.read_min_capacity <= var.table_autoscaling.read_max_capacity &&
      var.table_autoscaling.write_min_capacity <= var.table_autoscaling.write_max_capacity
    )
    error_message = "Each minimum capacity must be at most its maximum."
  }

  validation {
    condition     = var.table_autoscaling.target_utilization_percent >= 20 && var.table_autoscaling.target_utilization_percent <= 90
    error_message = "target_utilization_percent must be from 20 to 90 (DynamoDB target tracking's range)."
  }
}

variable "hot_topic_key_parts" {
  description = "Topics written faster than one DynamoDB partition takes (1,000 write units/s) -> how many partition keys their items spread over (HOT_TOPIC_KEY_PARTS of the consumer and the api; `trendstream plan` says how many). Raise a count ahead of the load: a change moves some tweets' keys (docs/data-model.md)."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for topic, parts in var.hot_topic_key_parts :
      parts >= 1 && parts <= 100 && floor(parts) == parts && trimspace(topic) != "" && length(regexall("[[:cntrl:]]", topic)) == 0
    ])
    error_message = "hot_topic_key_parts maps non-blank topic names without control characters to whole numbers from 1 to 100."
  }
}

# ---------------------------------------------------------------------------------------------
# Delivery and lake
# ---------------------------------------------------------------------------------------------

variable "firehose_buffering_size_mb" {
  description = "Megabytes Firehose buffers before writing an object to the lake (at least 64 for Parquet)."
  type        = number
  default     = 128

  validation {
    condition     = var.firehose_buffering_size_mb >= 1 && var.firehose_buffering_size_mb <= 128
    error_message = "firehose_buffering_size_mb must be 1 to 128."
  }

  validation {
    condition     = var.lake_format != "parquet" || var.firehose_buffering_size_mb >= 64
    error_message = "Firehose needs firehose_buffering_size_mb of at least 64 to convert records to Parquet."
  }
}

variable "firehose_buffering_interval_seconds" {
  description = "Seconds Firehose buffers before writing an object to the lake."
  type        = number
  default     = 300

  validation {
    condition     = var.firehose_buffering_interval_seconds >= 0 && var.firehose_buffering_interval_seconds <= 900
    error_message = "firehose_buffering_interval_seconds must be 0 to 900."
  }
}

variable "lake_format" {
  description = "Format of the lake's tweets/: parquet (Firehose converts the transformer's JSON against the Glue table; what Athena reads cheapest) or ndjson (the JSON lines as they are, for readers that want text)."
  type        = string
  default     = "parquet"

  validation {
    condition     = contains(["parquet", "ndjson"], var.lake_format)
    error_message = "lake_format must be parquet or ndjson."
  }
}

variable "lake_compression" {
  description = "Compression of lake objects: GZIP, SNAPPY or UNCOMPRESSED for parquet (the Parquet serializer's codecs; GZIP because Athena bills the bytes it scans, see docs/performance.md); GZIP or UNCOMPRESSED for ndjson."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(var.lake_format == "parquet" ? ["SNAPPY", "GZIP", "UNCOMPRESSED"] : ["GZIP", "UNCOMPRESSED"], var.lake_compression)
    error_message = "lake_compression must be SNAPPY, GZIP or UNCOMPRESSED with lake_format parquet, and GZIP or UNCOMPRESSED with ndjson."
  }
}

variable "error_retention_days" {
  description = "Days Firehose processing failures under errors/ are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.error_retention_days >= 1
    error_message = "error_retention_days must be at least 1."
  }
}

variable "quarantine_retention_days" {
  description = "Days records the consumer quarantined under quarantine/ are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.quarantine_retention_days >= 1
    error_message = "quarantine_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days overwritten or deleted lake object versions are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------

variable "lambda_artifacts_dir" {
  description = "Directory holding producer.zip, consumer.zip and firehose_transformer.zip; null means ../build."
  type        = string
  default     = null
}

variable "tweet_source" {
  description = "Where the producer reads tweets: x (the X API) or replay (recorded fixtures)."
  type        = string
  default     = "x"

  validation {
    condition     = contains(["x", "replay"], var.tweet_source)
    error_message = "tweet_source must be x or replay."
  }
}

variable "sentiment_engine" {
  description = "Sentiment scoring: vader (in-function), comprehend (Amazon Comprehend) or off."
  type        = string
  default     = "vader"

  validation {
    condition     = contains(["vader", "comprehend", "off"], var.sentiment_engine)
    error_message = "sentiment_engine must be vader, comprehend or off."
  }

  validation {
    condition     = var.sentiment_engine != "comprehend" || contains(local.comprehend_regions, var.region)
    error_message = "Amazon Comprehend does not exist in ${var.region}: use sentiment_engine = vader there, or one of ${join(", ", local.comprehend_regions)}."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "log_retention_days" {
  description = "Days function and delivery logs are kept."
  type        = number
  default     = 30

  validation {
    condition = contains(
      [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
      var.log_retention_days,
    )
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "schedule_expression" {
  description = "How often EventBridge runs the producer."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(...) or cron(...)."
  }

  # Runs must not overlap: the producer's 120 s timeout has to stay far below the period.
  validation {
    condition = !can(regex("^rate\\(", var.schedule_expression)) || try(
      tonumber(regex("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression)[0]) *
      lookup({ minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 },
      regex("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression)[1]) >= 300,
      false,
    )
    error_message = "A rate() schedule must be rate(N minutes|hours|days) with a period of at least 5 minutes (the producer may run for 2)."
  }

  # One alarm period per run, and CloudWatch evaluates at most one day of periods.
  validation {
    condition = !can(regex("^rate\\(", var.schedule_expression)) || try(
      tonumber(regex("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression)[0]) *
      lookup({ minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 },
      regex("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression)[1]) <= 86400,
      false,
    )
    error_message = "A rate() schedule may run the producer at most once a day (the producer alarms have one period per run, and CloudWatch periods stop at one day)."
  }
}

variable "twitter_ssm_prefix" {
  description = "SSM path of the X API credentials (TWITTER_SSM_PREFIX); null means /<name_prefix>/<environment>/twitter/, so environments sharing an account never collide."
  type        = string
  default     = null

  validation {
    condition     = var.twitter_ssm_prefix == null || can(regex("^/([A-Za-z0-9_.-]+/)*twitter/$", var.twitter_ssm_prefix))
    error_message = "twitter_ssm_prefix must be a path ending in twitter/ (leading and trailing slash), such as /trendstream/dev/twitter/."
  }
}

variable "twitter_secret_placeholder" {
  description = "Value the credential parameters are created with; passed to the producer (TWITTER_SECRET_PLACEHOLDER), which treats it as not set. Terraform never writes a parameter again, so a later change reaches the producer only: a parameter still holding the old value then reads as a credential (put the new one in it)."
  type        = string
  default     = "SET_ME"

  validation {
    condition     = length(trimspace(var.twitter_secret_placeholder)) > 0
    error_message = "SSM refuses empty parameter values: the placeholder must not be blank."
  }
}

variable "search_queries" {
  description = "X API v2 recent-search queries the producer runs every schedule period (SEARCH_QUERIES); each becomes a topic."
  type        = list(string)
  default     = ["aws lambda", "#serverless", "terraform aws"]

  validation {
    condition     = alltrue([for query in var.search_queries : can(regex(local.topic_name_pattern, query))])
    error_message = "Each search query is a topic name: 1 to 256 characters, one line without control characters or commas, neither starting nor ending with a space."
  }

  # They reach the producer as one environment variable (SEARCH_QUERIES, JSON), and Lambda takes
  # 4 KB of environment in all; the other variables need well under 1 KB.
  validation {
    # Terraform counts characters: the bytes are three per four base64 characters, less padding.
    condition = (
      length(base64encode(jsonencode(var.search_queries))) * 3 / 4 -
      length(regexall("=", base64encode(jsonencode(var.search_queries))))
    ) <= 3072
    error_message = "The search queries, as SEARCH_QUERIES (JSON), must take at most 3072 bytes of the producer's environment (Lambda's limit is 4 KB in all)."
  }
}

variable "trend_woeids" {
  description = "Yahoo WOEIDs whose trending topics the producer follows (TREND_WOEIDS; 1 is worldwide); trends need the bearer_token credential. Empty disables trends."
  type        = list(number)
  default     = [1]

  validation {
    condition     = alltrue([for woeid in var.trend_woeids : woeid >= 1 && floor(woeid) == woeid])
    error_message = "WOEIDs are positive whole numbers (1 is worldwide, 23424977 the United States)."
  }
}

variable "producer_reserved_concurrency" {
  description = "Concurrency reserved for the producer; null (the default) reserves none, since AWS refuses a reservation that leaves an account under its minimum unreserved concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.producer_reserved_concurrency == null || try(var.producer_reserved_concurrency >= 1 && floor(var.producer_reserved_concurrency) == var.producer_reserved_concurrency, false)
    error_message = "producer_reserved_concurrency must be null or a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS mails a confirmation link first); required outside local unless alarm_notifications_disabled is true."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }

  validation {
    condition     = var.alarm_email != null || var.alarm_notifications_disabled || var.environment == "local"
    error_message = "Set alarm_email (alarms notify it) or, knowingly, alarm_notifications_disabled = true (alarms then notify nobody)."
  }
}

variable "alarm_notifications_disabled" {
  description = "Deploy without an alarm e-mail on purpose: the alarms still change state, but nobody is notified."
  type        = bool
  default     = false
}

variable "producer_idle_alarm_runs" {
  description = "Consecutive scheduled producer runs that fetched no tweet before the producer-no-tweets alarm fires."
  type        = number
  default     = 3

  validation {
    condition     = var.producer_idle_alarm_runs >= 1 && var.producer_idle_alarm_runs <= 100 && floor(var.producer_idle_alarm_runs) == var.producer_idle_alarm_runs
    error_message = "producer_idle_alarm_runs must be a whole number from 1 to 100."
  }

  # "PutMetricAlarm": Period x EvaluationPeriods may not exceed one day (86,400 s).
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
  validation {
    condition     = var.producer_idle_alarm_runs * local.schedule_period_seconds <= 86400
    error_message = "producer_idle_alarm_runs runs of ${local.schedule_period_seconds} s exceed the one day CloudWatch evaluates an alarm over: at most ${floor(86400 / local.schedule_period_seconds)} runs on this schedule."
  }
}

variable "iterator_age_alarm_threshold_ms" {
  description = "Consumer lag (IteratorAge, ms) that raises an alarm."
  type        = number
  default     = 60000

  validation {
    condition     = var.iterator_age_alarm_threshold_ms > 0
    error_message = "iterator_age_alarm_threshold_ms must be positive."
  }
}

# ---------------------------------------------------------------------------------------------
# Read side (API, page, dashboard)
# ---------------------------------------------------------------------------------------------

variable "api_topics" {
  description = "Pins the API's default rankings (and the page) to these topics, at most 25; empty (the default) ranks every topic the pipeline found in the window."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.api_topics) <= 25 && alltrue([for topic in var.api_topics : can(regex(local.topic_name_pattern, topic))])
    error_message = "At most 25 topics, each a topic name: 1 to 256 characters, one line without control characters or commas, neither starting nor ending with a space."
  }
}

variable "api_cors_allow_origins" {
  description = "Browser origins allowed to call the API cross-origin; empty leaves CORS off."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.api_cors_allow_origins : origin == "*" || can(regex("^https?://[^/]+$", origin))])
    error_message = "Each origin is \"*\" or a scheme and host (and port) without a path, e.g. https://example.com."
  }
}

variable "api_throttling_rate_limit" {
  description = "Requests per second the API stage accepts in the steady state (docs/api.md: the worst call's read units and the cost per day at this limit)."
  type        = number
  default     = 2

  validation {
    condition     = var.api_throttling_rate_limit > 0 && var.api_throttling_rate_limit <= 10000
    error_message = "api_throttling_rate_limit must be above 0 and at most 10000 (the account's default regional limit)."
  }
}

variable "api_throttling_burst_limit" {
  description = "Requests the API stage accepts in a burst. Without api_reserved_concurrency, burst + rate may not exceed 5: the API then never takes more than half of a new account's 10 concurrent executions from the consumer, the transformer and the producer."
  type        = number
  default     = 3

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && var.api_throttling_burst_limit <= 5000 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number from 1 to 5000 (the account's default burst)."
  }

  validation {
    condition     = var.api_reserved_concurrency != null || var.api_throttling_burst_limit + ceil(var.api_throttling_rate_limit) <= 5
    error_message = "Without api_reserved_concurrency, api_throttling_burst_limit + api_throttling_rate_limit must be at most 5: a call ends well within a second, so the API then holds at most 5 of a new account's 10 concurrent executions. Reserve concurrency for the API (accounts above 100) to raise the limits."
  }
}

variable "api_reserved_concurrency" {
  description = "Concurrency reserved for (and the most taken by) the API function; null (the default) reserves none, since AWS refuses a reservation that leaves an account under its minimum unreserved concurrency (100), and then the throttle limits bound the API instead."
  type        = number
  default     = null

  validation {
    condition     = var.api_reserved_concurrency == null || try(var.api_reserved_concurrency >= 1 && floor(var.api_reserved_concurrency) == var.api_reserved_concurrency, false)
    error_message = "api_reserved_concurrency must be null or a whole number of at least 1."
  }
}

variable "api_authorization" {
  description = "Who may call the API and open the page. NONE (the default): public, throttled (README, docs/api.md). AWS_IAM: requests signed with SigV4 by a principal allowed execute-api:Invoke. JWT: a bearer token issued by jwt_issuer for one of jwt_audience (an OIDC provider such as Cognito)."
  type = object({
    type         = string
    jwt_issuer   = optional(string)
    jwt_audience = optional(list(string), [])
  })
  default = { type = "NONE" }

  validation {
    condition     = contains(["NONE", "AWS_IAM", "JWT"], var.api_authorization.type)
    error_message = "api_authorization.type must be NONE, AWS_IAM or JWT."
  }

  validation {
    condition     = var.api_authorization.type != "JWT" || (can(regex("^https://[^[:space:]]+$", coalesce(var.api_authorization.jwt_issuer, "-"))) && length(var.api_authorization.jwt_audience) > 0)
    error_message = "A JWT authorizer needs jwt_issuer (an https:// URL) and at least one jwt_audience."
  }

  validation {
    condition     = var.api_authorization.type == "JWT" || (var.api_authorization.jwt_issuer == null && length(var.api_authorization.jwt_audience) == 0)
    error_message = "jwt_issuer and jwt_audience apply only to type = \"JWT\"."
  }
}
