# ---------------------------------------------------------------------------------------------
# Where and what
# ---------------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "project_name" {
  description = "Service name; prefixes every resource name."
  type        = string
  default     = "{{ project_name | replace('_', '-') }}"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.project_name))
    error_message = "project_name: 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (production, staging, ...); also passed to the app as ENVIRONMENT."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: 2-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Network and load balancer
# ---------------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC (a /16 leaves room for every subnet)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper, but egress fails with its AZ). Keep false in production."
  type        = bool
  default     = false
}

variable "allowed_ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS. Empty: HTTP only (port 80); set: port 80 redirects to 443."
  type        = string
  default     = ""
}

variable "alb_access_logs_bucket" {
  description = "S3 bucket for load balancer access logs (its policy must allow ELB log delivery). Empty: off."
  type        = string
  default     = ""
}

# ---------------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------------

variable "image_tag" {
  description = "Image to run from the ECR repository: an immutable tag (e.g. the git SHA) or a digest \"sha256:...\"."
  type        = string
}

variable "cpu" {
  description = "Fargate task CPU units (256, 512, 1024, ...)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Fargate task memory in MiB (must suit the CPU value)."
  type        = number
  default     = 1024
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; must match the platform the image was built for."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "desired_count" {
  description = "Tasks to start with; autoscaling then moves between min_capacity and max_capacity."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Fewest running tasks (2 keeps one per AZ)."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Most running tasks."
  type        = number
  default     = 6
}

variable "log_level" {
  description = "LOG_LEVEL of the app."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups, in days."
  type        = number
  default     = 365
}

variable "app_secret_keys" {
  description = "Keys of the JSON app secret (secrets.tf) to inject as environment variables of the same name."
  type        = list(string)
  default     = []
}

variable "alarm_5xx_threshold" {
  description = "Target 5xx responses per minute that fail a deployment (two minutes in a row) and roll it back."
  type        = number
  default     = 10
}

# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL major version; RDS applies minor upgrades in the maintenance window."
  type        = string
  default     = "16"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Standby replica in the other AZ with automatic failover."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14
}

variable "db_performance_insights" {
  description = "Performance Insights (not available on the smallest instance classes)."
  type        = bool
  default     = false
}

variable "db_name" {
  description = "Name of the application database."
  type        = string
  default     = "{{ package_name }}"
}

variable "db_username" {
  description = "Master user name; its password is generated and rotated by RDS in Secrets Manager."
  type        = string
  default     = "app"
}

variable "deletion_protection" {
  description = "Protect the database and the load balancer from deletion. Set false only to tear down."
  type        = bool
  default     = true
}
