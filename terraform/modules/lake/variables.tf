variable "bucket_name" {
  description = "Globally unique name of the lake bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "S3 bucket names are 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for objects in the bucket and Athena query results."
  type        = string
}

variable "force_destroy" {
  description = "Let destroy delete a bucket that still holds objects (the Athena workgroup's history and saved queries are always deleted with it)."
  type        = bool
  default     = false
}

variable "error_retention_days" {
  description = "Days Firehose processing failures under errors/ are kept."
  type        = number
  default     = 30
}

variable "quarantine_retention_days" {
  description = "Days records the consumer quarantined under quarantine/ are kept."
  type        = number
  default     = 30
}

variable "athena_results_retention_days" {
  description = "Days Athena query results under athena-results/ are kept."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_retention_days >= 1
    error_message = "athena_results_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30
}

variable "glue_database_name" {
  description = "Glue database of the lake (lowercase letters, digits and underscores for Athena)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))
    error_message = "Athena needs database names of lowercase letters, digits and underscores."
  }
}

variable "glue_table_name" {
  description = "Glue table over the delivered tweets."
  type        = string
  default     = "tweets"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_table_name))
    error_message = "Athena needs table names of lowercase letters, digits and underscores."
  }
}

variable "storage_format" {
  description = "Format of the objects under tweets/: parquet (Firehose record format conversion) or ndjson (the transformer's JSON lines)."
  type        = string
  default     = "parquet"
}

variable "projection_year_range" {
  description = "First and last year Athena partition projection considers, as \"first,last\"."
  type        = string
  default     = "2024,2040"

  validation {
    condition     = can(regex("^[0-9]{4},[0-9]{4}$", var.projection_year_range))
    error_message = "projection_year_range must look like 2024,2040."
  }
}

variable "athena_workgroup_name" {
  description = "Name of the Athena workgroup whose settings every query must use."
  type        = string
}

variable "tags" {
  description = "Tags for every taggable resource of the lake."
  type        = map(string)
  default     = {}
}
