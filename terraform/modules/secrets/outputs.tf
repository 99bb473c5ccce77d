output "parameter_arns" {
  description = "ARNs of the credential parameters by name."
  value       = { for name, parameter in aws_ssm_parameter.this : name => parameter.arn }
}

output "parameter_names" {
  description = "Full names of the credential parameters by name."
  value       = { for name, parameter in aws_ssm_parameter.this : name => parameter.name }
}

output "placeholder" {
  description = "Value that means a credential has not been set."
  value       = var.placeholder
}
