output "url" {
  description = "Public URL of the service."
  value       = "${local.https_enabled ? "https" : "http"}://${aws_lb.main.dns_name}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point your domain's CNAME/alias here)."
  value       = aws_lb.main.dns_name
}

output "ecr_repository_url" {
  description = "Push images here: <url>:<git sha>."
  value       = aws_ecr_repository.app.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_name" {
  description = "ECS service."
  value       = aws_ecs_service.app.name
}

output "task_definition_family" {
  description = "Task definition family (its `migrate` container runs the migrations in every task)."
  value       = aws_ecs_task_definition.app.family
}

output "container_name" {
  description = "Name of the app container in the task definition (for command overrides of one-off tasks)."
  value       = local.container_name
}

output "private_subnet_ids" {
  description = "Private subnets, for one-off tasks."
  value       = aws_subnet.private[*].id
}

output "service_security_group_id" {
  description = "Security group of the service, for one-off tasks."
  value       = aws_security_group.service.id
}

output "db_endpoint" {
  description = "PostgreSQL endpoint (host:port), private to the VPC."
  value       = aws_db_instance.main.endpoint
}

output "db_master_user_secret_arn" {
  description = "Secrets Manager secret with the master credentials (managed and rotated by RDS; used by the migrations only)."
  value       = local.db_secret_arn
}

output "app_secret_arn" {
  description = "Secrets Manager secret for the app's own secrets (JSON object)."
  value       = aws_secretsmanager_secret.app.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the app."
  value       = aws_cloudwatch_log_group.app.name
}
