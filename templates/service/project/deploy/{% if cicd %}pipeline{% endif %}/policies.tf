# The roles' permissions (roles.tf says who assumes which).

locals {
  # What `terraform plan` refreshes in deploy/terraform, and what the release reads: describe,
  # list and get-configuration calls only. No secret values and no S3 objects beyond the state.
  read_actions = [
    "acm:DescribeCertificate", "acm:ListTagsForCertificate",
    "application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource",
    "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "ec2:Describe*",
    "ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
    "ecs:Describe*", "ecs:List*",
    "elasticache:Describe*", "elasticache:ListTagsForResource",
    "elasticloadbalancing:Describe*",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListInstanceProfilesForRole",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "rds:Describe*", "rds:ListTagsForResource",
    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
    "sts:GetCallerIdentity",
    "wafv2:Get*", "wafv2:List*",
  ]
  # The services deploy/terraform manages: their writes are allowed on resources tagged with this
  # service and environment (existing ones), or created with those tags (new ones).
  managed_services = [
    "application-autoscaling", "cloudwatch", "ec2", "ecr", "ecs", "elasticache",
    "elasticloadbalancing", "kms", "logs", "rds", "secretsmanager", "wafv2",
  ]
}

data "aws_iam_policy_document" "build" {
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushToTheFirstEnvironment"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [local.repository_arn[local.first_env]]
  }
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "Read"
    actions   = local.read_actions
    resources = ["*"]
  }

  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [for key in values(local.state_key) : "${aws_s3_bucket.state.arn}/${key}"]
  }

  statement {
    sid       = "TakeThePlanLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for key in values(local.state_key) : "${aws_s3_bucket.state.arn}/${key}.tflock"]
  }

  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
  }
}

data "aws_iam_policy_document" "deploy_state" {
  for_each = toset(var.environments)

  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.state.arn}/${local.state_key[each.key]}",
      "${aws_s3_bucket.state.arn}/${local.state_key[each.key]}.tflock",
    ]
  }

  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
  }
}

# The release itself (python -m <package>.release, and the image promotion).
data "aws_iam_policy_document" "deploy_release" {
  for_each = toset(var.environments)

  statement {
    sid       = "Read"
    actions   = local.read_actions
    resources = ["*"]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullTheBuiltImage"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    ]
    resources = [local.repository_arn[local.first_env], local.repository_arn[each.key]]
  }

  statement {
    sid = "PromoteIntoThisEnvironment"
    actions = [
      "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [local.repository_arn[each.key]]
  }

  statement {
    sid       = "NewTaskDefinitionRevisions"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = ["*"] # RegisterTaskDefinition takes no resource ARN
  }

  statement {
    sid       = "TagTheNewRevisions"
    actions   = ["ecs:TagResource"]
    resources = ["${local.prefix}:ecs:${local.region_acct}:task-definition/${var.project_name}-${each.key}:*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }

  statement {
    sid     = "MigrateRollOutRollBack"
    actions = ["ecs:RunTask", "ecs:StopTask", "ecs:UpdateService"]
    resources = [
      "${local.prefix}:ecs:${local.region_acct}:task-definition/${var.project_name}-${each.key}:*",
      "${local.prefix}:ecs:${local.region_acct}:task/${var.project_name}-${each.key}/*",
      "${local.prefix}:ecs:${local.region_acct}:service/${var.project_name}-${each.key}/${var.project_name}-${each.key}",
    ]
  }

  statement {
    sid     = "HandTheTaskItsRoles"
    actions = ["iam:PassRole"]
    resources = [
      "${local.prefix}:iam::${local.account_id}:role/${var.project_name}-${each.key}-*",
    ]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# `terraform apply` of deploy/terraform: writes only on this service's resources of this
# environment, recognised by their tags (the provider's default_tags) or by their names.
data "aws_iam_policy_document" "deploy_infrastructure" {
  for_each = toset(var.environments)

  statement {
    sid       = "ChangeTaggedResources"
    actions   = [for service in local.managed_services : "${service}:*"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Service"
      values   = [var.project_name]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid       = "CreateTaggedResources"
    actions   = [for service in local.managed_services : "${service}:*"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Service"
      values   = [var.project_name]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid     = "TheServiceRoles"
    actions = ["iam:*"]
    resources = [
      "${local.prefix}:iam::${local.account_id}:role/${var.project_name}-${each.key}-*",
      "${local.prefix}:iam::${local.account_id}:policy/${var.project_name}-${each.key}-*",
    ]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.prefix}:iam::${local.account_id}:role/aws-service-role/*"]
  }
}
