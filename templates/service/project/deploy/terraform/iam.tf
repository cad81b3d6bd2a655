# Two roles per task, kept apart: the execution role is what ECS itself uses to start the task
# (pull the image, read the secrets, write the logs); the task role is what the app's own code
# may do in AWS: log in to the database as its own role (IAM authentication); capabilities attach
# theirs.

locals {
  # deploy/pipeline's boundary (boundary.tf there), on the roles below when pipeline_role_boundary.
  pipeline_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project_name}-github-service-role-boundary"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Only ECS tasks of this account (confused-deputy protection).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# --- execution role ---------------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name                 = "${local.name}-execution"
  description          = "ECS starts ${local.name} tasks: image pull, secrets, logs"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.pipeline_role_boundary ? local.pipeline_boundary_arn : null
}

resource "aws_iam_role_policy_attachment" "execution_managed" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "ReadTaskSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.task_secret_arns
  }

  statement {
    sid       = "DecryptTaskSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-task-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# --- task role --------------------------------------------------------------------------------

resource "aws_iam_role" "task" {
  name                 = "${local.name}-task"
  description          = "AWS permissions of the ${local.name} application code"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.pipeline_role_boundary ? local.pipeline_boundary_arn : null
}

# IAM database authentication: the app signs a token per new connection, as var.db_app_role
# and as nobody else.
data "aws_iam_policy_document" "task_database" {
  statement {
    sid       = "ConnectAsTheAppRole"
    actions   = ["rds-db:connect"]
    resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${aws_db_instance.main.resource_id}/${var.db_app_role}"]
  }
}

resource "aws_iam_role_policy" "task_database" {
  name   = "connect-to-the-database"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_database.json
}

# --- VPC flow logs ----------------------------------------------------------------------------

data "aws_iam_policy_document" "vpc_flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "vpc_flow_logs" {
  name                 = "${local.name}-vpc-flow-logs"
  description          = "VPC flow logs of ${local.name} to CloudWatch Logs"
  assume_role_policy   = data.aws_iam_policy_document.vpc_flow_logs_assume.json
  permissions_boundary = var.pipeline_role_boundary ? local.pipeline_boundary_arn : null
}

data "aws_iam_policy_document" "vpc_flow_logs" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.vpc_flow_logs.arn,
      "${aws_cloudwatch_log_group.vpc_flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "vpc_flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.vpc_flow_logs.id
  policy = data.aws_iam_policy_document.vpc_flow_logs.json
}

# --- RDS enhanced monitoring ------------------------------------------------------------------

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name                 = "${local.name}-rds-monitoring"
  description          = "RDS enhanced monitoring of ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.rds_monitoring_assume.json
  permissions_boundary = var.pipeline_role_boundary ? local.pipeline_boundary_arn : null
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
