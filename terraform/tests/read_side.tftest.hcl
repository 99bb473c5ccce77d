# Plan-time checks of the read side on its own, against a mocked AWS provider: the HTTP API's
# catch-all route, payload format, throttling, access logs and CORS switch, and the dashboard's widgets.

mock_provider "aws" {
  source = "./tests/mocks"

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/ts-test-api"
    }
  }
}

variables {
  kms_key_arn   = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  function_name = "ts-test-api"
  function_arn  = "arn:aws:lambda:us-east-1:123456789012:function:ts-test-api"
}

run "api_routes_invoke_the_function_with_payload_2_0" {
  command = apply

  module {
    source = "./modules/api"
  }

  variables {
    name = "ts-test-api"
  }

  assert {
    condition     = aws_apigatewayv2_integration.this.payload_format_version == "2.0" && aws_apigatewayv2_integration.this.integration_type == "AWS_PROXY"
    error_message = "The function reads payload format 2.0 events through a Lambda proxy integration."
  }

  assert {
    condition     = aws_apigatewayv2_route.this.route_key == "$default" && aws_apigatewayv2_route.this.target == "integrations/${aws_apigatewayv2_integration.this.id}"
    error_message = "One catch-all route to the function: its resolver is the API's only route table."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 2 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 3
    error_message = "The stage throttles every route by default."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.this.arn && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "Access logs go to the API's own encrypted log group."
  }

  assert {
    condition     = length(aws_apigatewayv2_api.this.cors_configuration) == 0
    error_message = "CORS stays off unless origins are given (the page is same-origin)."
  }

  assert {
    condition     = aws_lambda_permission.this.principal == "apigateway.amazonaws.com" && endswith(aws_lambda_permission.this.source_arn, "/*/*")
    error_message = "Only this API may invoke the function."
  }
}

run "api_is_public_unless_authorization_is_asked_for" {
  command = apply

  module {
    source = "./modules/api"
  }

  variables {
    name = "ts-test-api"
  }

  assert {
    condition     = aws_apigatewayv2_route.this.authorization_type == "NONE" && aws_apigatewayv2_route.this.authorizer_id == null && length(aws_apigatewayv2_authorizer.this) == 0
    error_message = "By default every route is public (no authorizer)."
  }
}

run "api_iam_authorization_covers_every_route" {
  command = apply

  module {
    source = "./modules/api"
  }

  variables {
    name          = "ts-test-api"
    authorization = { type = "AWS_IAM" }
  }

  assert {
    condition     = aws_apigatewayv2_route.this.authorization_type == "AWS_IAM" && length(aws_apigatewayv2_authorizer.this) == 0
    error_message = "AWS_IAM: every route needs a SigV4-signed request."
  }
}

run "api_jwt_authorization_uses_one_authorizer" {
  command = apply

  module {
    source = "./modules/api"
  }

  variables {
    name          = "ts-test-api"
    authorization = { type = "JWT", jwt_issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example", jwt_audience = ["trendstream"] }
  }

  assert {
    condition = (
      aws_apigatewayv2_authorizer.this[0].authorizer_type == "JWT" &&
      aws_apigatewayv2_authorizer.this[0].jwt_configuration[0].issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example" &&
      aws_apigatewayv2_route.this.authorization_type == "JWT" && aws_apigatewayv2_route.this.authorizer_id == aws_apigatewayv2_authorizer.this[0].id
    )
    error_message = "JWT: every route goes through the one JWT authorizer."
  }
}

run "api_cors_is_configurable" {
  command = apply

  module {
    source = "./modules/api"
  }

  variables {
    name               = "ts-test-api"
    cors_allow_origins = ["https://example.com"]
  }

  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins == toset(["https://example.com"])
    error_message = "The given origins are the allowed ones."
  }
}

run "dashboard_shows_every_stage" {
  command = apply

  module {
    source = "./modules/dashboard"
  }

  variables {
    name                 = "ts-test"
    region               = "us-east-1"
    stream_name          = "ts-test-tweets"
    delivery_stream_name = "ts-test-lake-delivery"
    api_id               = "a1b2c3d4e5"
    metrics_namespace    = "ts/test"
    function_names = {
      producer    = "ts-test-producer"
      consumer    = "ts-test-consumer"
      transformer = "ts-test-firehose-transformer"
      api         = "ts-test-api"
    }
  }

  assert {
    condition = alltrue([
      for metric in ["IncomingRecords", "IteratorAge", "Duration", "DuplicatesSkipped", "RecordsQuarantined", "DeliveryToS3.DataFreshness", "DeliveryToS3.Success", "Latency", "4xx", "5xx"] :
      strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"${metric}\"")
    ])
    error_message = "The dashboard shows records per stage, iterator age, consumer errors and duration, duplicates, quarantine, Firehose freshness and failures, API latency and errors."
  }

  assert {
    condition = alltrue(flatten([
      for widget in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for metric in widget.properties.metrics : metric[0] == "ts/test" if !startswith(metric[0], "AWS/")
      ]
    ]))
    error_message = "Every widget line on the functions' own metrics reads this environment's namespace (metrics_namespace) only."
  }

  assert {
    condition     = output.dashboard_url == "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=ts-test"
    error_message = "The URL opens the dashboard in the console."
  }
}
