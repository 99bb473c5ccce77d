output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Default endpoint of the HTTP API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "execution_arn" {
  description = "Execution ARN prefix of the API (for invoke permissions)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "invoke_url" {
  description = "URL of the $default stage: the page at /, the API under /api/, the schema at /swagger."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "access_log_group_name" {
  description = "Log group of the stage's access logs."
  value       = aws_cloudwatch_log_group.this.name
}

output "stage_name" {
  description = "The stage serving the API (the default stage, deployed automatically)."
  value       = aws_apigatewayv2_stage.this.name
}
