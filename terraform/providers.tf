locals {
  is_local = var.local_endpoint != null
}

# With local_endpoint set, every service the stack uses talks to the emulator with its fixed test
# credentials; otherwise the standard credential chain and real endpoints apply.
provider "aws" {
  #checkov:skip=CKV_AWS_41:"test"/"test" are the emulator's fixed dummy credentials, set only when local_endpoint is given; real deployments use the standard credential chain.
  region = var.region

  access_key                  = local.is_local ? "test" : null
  secret_key                  = local.is_local ? "test" : null
  s3_use_path_style           = local.is_local
  skip_credentials_validation = local.is_local
  # The account id is still requested (the emulator's STS answers it): without it the provider
  # builds ARNs with an empty account field, which the emulator cannot resolve.
  skip_requesting_account_id = false
  skip_metadata_api_check    = local.is_local
  skip_region_validation     = local.is_local

  dynamic "endpoints" {
    for_each = local.is_local ? [var.local_endpoint] : []

    content {
      apigatewayv2   = endpoints.value
      appautoscaling = endpoints.value
      athena         = endpoints.value
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      dynamodb       = endpoints.value
      eventbridge    = endpoints.value
      firehose       = endpoints.value
      glue           = endpoints.value
      iam            = endpoints.value
      kinesis        = endpoints.value
      kms            = endpoints.value
      lambda         = endpoints.value
      s3             = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      ssm            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = local.tags
  }
}
