terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Exactly the provider the stack is tested with (the modules accept a range).
      version = "= 5.100.0"
    }
  }
}
