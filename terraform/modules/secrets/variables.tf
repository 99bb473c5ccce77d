variable "name_prefix" {
  description = "Path the parameters live under, with leading and trailing slash."
  type        = string
  default     = "/twitter/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9_.-]+/)+$", var.name_prefix))
    error_message = "name_prefix must be a path such as /twitter/ (leading and trailing slash)."
  }
}

variable "parameter_names" {
  description = "Credential names under name_prefix."
  type        = list(string)
  default     = ["consumer_key", "consumer_secret", "access_token_key", "access_token_secret", "bearer_token"]

  validation {
    condition     = alltrue([for name in var.parameter_names : can(regex("^[A-Za-z0-9_.-]+$", name))])
    error_message = "Parameter names are letters, digits, _, . and -."
  }
}

variable "placeholder" {
  description = "Value each parameter is created with, meaning \"not set\" (the producer treats it as a missing credential); never written again once a parameter exists."
  type        = string
  default     = "SET_ME"
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the SecureString values."
  type        = string
}

variable "tags" {
  description = "Tags for the parameters."
  type        = map(string)
  default     = {}
}
