# Secrets reach the container through the task definition's `secrets` (resolved by ECS from
# Secrets Manager when a task starts), never through plain environment variables.
#
# - The database credentials: the JSON secret that RDS manages ({"username", "password"}).
# - An app secret for everything else (API keys, DSNs): a JSON object whose keys listed in
#   var.app_secret_keys become environment variables of the same name. Terraform creates it
#   empty; set its values outside Terraform so they stay out of the state:
#     aws secretsmanager put-secret-value --secret-id <app_secret_arn> --secret-string file://app.json

resource "aws_secretsmanager_secret" "app" {
  name                    = "${local.name}/app"
  description             = "Application secrets of ${local.name} (JSON object)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "app_initial" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({})

  lifecycle {
    # Values are managed outside Terraform after creation.
    ignore_changes = [secret_string]
  }
}

locals {
  db_secret_arn = aws_db_instance.main.master_user_secret[0].secret_arn

  container_secrets = concat(
    [
      { name = "DATABASE_USER", valueFrom = "${local.db_secret_arn}:username::" },
      { name = "DATABASE_PASSWORD", valueFrom = "${local.db_secret_arn}:password::" },
    ],
    [
      for key in var.app_secret_keys :
      { name = key, valueFrom = "${aws_secretsmanager_secret.app.arn}:${key}::" }
    ],
  )

  # Everything the execution role may read when it starts a task.
  task_secret_arns = [local.db_secret_arn, aws_secretsmanager_secret.app.arn]
}
