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
  description = "Let destroy delete a non-empty lake bucket, Athena history and the table; always on for local."
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
  description = "Value the credential parameters are created with; passed to the producer (TWITTER_SECRET_PLACEHOLDER), which treats it as not set."
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
    condition = alltrue([
      for query in var.search_queries : length(trimspace(query)) > 0 && length(query) <= 512
    ])
    error_message = "Each search query must be non-blank and at most 512 characters (the X API v2 limit)."
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
  description = "Topics the API ranks (and the page shows) when a caller names none, at most 25; empty means the search queries."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.api_topics) <= 25 && alltrue([for topic in var.api_topics : length(topic) > 0 && !strcontains(topic, ",")])
    error_message = "At most 25 topics, none empty, none containing a comma."
  }
}

variable "api_cors_allow_origins" {
  description = "Browser origins allowed to call the API cross-origin; empty leaves CORS off."
  type        = list(string)
  default     = []
}

variable "api_throttling_rate_limit" {
  description = "Requests per second the API stage accepts in the steady state."
  type        = number
  default     = 50

  validation {
    condition     = var.api_throttling_rate_limit > 0 && var.api_throttling_rate_limit <= 10000
    error_message = "api_throttling_rate_limit must be above 0 and at most 10000 (the account's default regional limit)."
  }
}

variable "api_throttling_burst_limit" {
  description = "Requests the API stage accepts in a burst."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && var.api_throttling_burst_limit <= 5000 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number from 1 to 5000 (the account's default burst)."
  }
}
