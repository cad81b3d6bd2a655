# The roles' permissions (roles.tf says who assumes which).

locals {
  # What `terraform plan` refreshes in deploy/terraform (with every capability's files), and what
  # the release reads: describe, list and get-configuration calls only. Secret values: only this
  # service's (statement ReadTheServiceSecrets), which aws_secretsmanager_secret_version refreshes.
  read_actions = [
    "acm:DescribeCertificate", "acm:ListTagsForCertificate",
    "application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource",
    "aps:Describe*", "aps:List*",
    "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "cognito-idp:DescribeResourceServer", "cognito-idp:DescribeUserPool",
    "cognito-idp:DescribeUserPoolClient", "cognito-idp:DescribeUserPoolDomain",
    "cognito-idp:GetGroup", "cognito-idp:GetUserPoolMfaConfig", "cognito-idp:ListTagsForResource",
    "ec2:Describe*",
    "ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
    "ecs:Describe*", "ecs:List*",
    "elasticache:Describe*", "elasticache:ListTagsForResource",
    "elasticloadbalancing:Describe*",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListInstanceProfilesForRole",
    "kafka:Describe*", "kafka:GetBootstrapBrokers", "kafka:List*",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "mq:Describe*", "mq:List*",
    "rds:Describe*", "rds:ListTagsForResource",
    "secretsmanager:DescribeSecret", "secretsmanager:GetRandomPassword",
    "secretsmanager:GetResourcePolicy",
    "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sts:GetCallerIdentity",
    "wafv2:Get*", "wafv2:List*",
  ]
  # The services deploy/terraform manages (with every capability's files): their writes are
  # allowed on resources tagged with this service and environment (existing ones), or created
  # with those tags (new ones).
  managed_services = [
    "application-autoscaling", "aps", "cloudwatch", "cognito-idp", "ec2", "ecr", "ecs",
    "elasticache", "elasticloadbalancing", "kafka", "kms", "logs", "mq", "rds", "secretsmanager",
    "sns", "wafv2",
  ]
  # The calls that add or remove tags, in those services.
  tagging_actions = [
    "application-autoscaling:TagResource", "application-autoscaling:UntagResource",
    "aps:TagResource", "aps:UntagResource",
    "cloudwatch:TagResource", "cloudwatch:UntagResource",
    "cognito-idp:TagResource", "cognito-idp:UntagResource",
    "ec2:CreateTags", "ec2:DeleteTags",
    "ecr:TagResource", "ecr:UntagResource",
    "ecs:TagResource", "ecs:UntagResource",
    "elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource",
    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
    "iam:TagPolicy", "iam:TagRole", "iam:UntagPolicy", "iam:UntagRole",
    "kafka:TagResource", "kafka:UntagResource",
    "kms:TagResource", "kms:UntagResource",
    "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
    "mq:CreateTags", "mq:DeleteTags",
    "rds:AddTagsToResource", "rds:RemoveTagsFromResource",
    "secretsmanager:TagResource", "secretsmanager:UntagResource",
    "sns:TagResource", "sns:UntagResource",
    "wafv2:TagResource", "wafv2:UntagResource",
  ]
  tagging_actions_with_create_action = [
    "ec2:CreateTags", "ec2:DeleteTags", "ecs:TagResource", "ecs:UntagResource",
    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
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

  # aws_secretsmanager_secret_version refreshes the value: this service's secrets only, and its
  # key only through Secrets Manager.
  statement {
    sid       = "ReadTheServiceSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["${local.prefix}:secretsmanager:${local.region_acct}:secret:${var.project_name}-*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Service"
      values   = [var.project_name]
    }
  }

  statement {
    sid       = "DecryptTheServiceSecrets"
    actions   = ["kms:Decrypt"]
    resources = ["${local.prefix}:kms:${local.region_acct}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Service"
      values   = [var.project_name]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.aws_region}.amazonaws.com"]
    }
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

  # The roles it creates or gives policies to carry the boundary (boundary.tf): no IAM, whatever
  # policy they get.
  statement {
    sid    = "OnlyBoundedServiceRoles"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy", "iam:CreateRole", "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
    ]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.service_role_boundary_arn]
    }
  }

  statement {
    sid       = "KeepTheBoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  # Managed policies: AWS's service-role policies (ECS task execution, RDS monitoring) and this
  # service's own; never AdministratorAccess, PowerUserAccess, IAMFullAccess and the like.
  statement {
    sid       = "OnlyServiceRolePolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["*"]

    condition {
      test     = "ArnNotLike"
      variable = "iam:PolicyARN"
      values = [
        "${local.prefix}:iam::aws:policy/service-role/*",
        "${local.prefix}:iam::${local.account_id}:policy/${var.project_name}-${each.key}-*",
      ]
    }
  }

  statement {
    sid       = "NoAdministratorPolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values = [
        "${local.prefix}:iam::aws:policy/AdministratorAccess*",
        "${local.prefix}:iam::aws:policy/PowerUserAccess",
        "${local.prefix}:iam::aws:policy/IAMFullAccess",
        "${local.prefix}:iam::aws:policy/*FullAccess",
      ]
    }
  }

  # CreateTaggedResources allows any call that sets Service/Environment: without these denies,
  # tagging another service's resource would make it this role's. In EC2, ECS and ELB a tag set
  # while creating is recognised (their CreateAction key), so there every other tagging of a
  # resource not already tagged for this service is denied; elsewhere (RDS, KMS, logs, ...) a
  # tag set while creating looks like any other, so what is denied is retagging a resource that
  # carries another service's or environment's tag.
  dynamic "statement" {
    for_each = { Service = var.project_name, Environment = each.key }

    content {
      sid       = "KeepOthers${statement.key}TagsWhereCreationIsKnown"
      effect    = "Deny"
      actions   = local.tagging_actions_with_create_action
      resources = ["*"]

      condition {
        test     = "ForAnyValue:StringEquals"
        variable = "aws:TagKeys"
        values   = ["Service", "Environment"]
      }

      condition {
        test     = "StringNotEquals"
        variable = "aws:ResourceTag/${statement.key}"
        values   = [statement.value]
      }

      condition {
        test     = "Null"
        variable = "ec2:CreateAction"
        values   = ["true"]
      }

      condition {
        test     = "Null"
        variable = "ecs:CreateAction"
        values   = ["true"]
      }

      condition {
        test     = "Null"
        variable = "elasticloadbalancing:CreateAction"
        values   = ["true"]
      }
    }
  }

  dynamic "statement" {
    for_each = { Service = var.project_name, Environment = each.key }

    content {
      sid       = "KeepOthers${statement.key}Tags"
      effect    = "Deny"
      actions   = local.tagging_actions
      resources = ["*"]

      condition {
        test     = "ForAnyValue:StringEquals"
        variable = "aws:TagKeys"
        values   = ["Service", "Environment"]
      }

      condition {
        test     = "Null"
        variable = "aws:ResourceTag/${statement.key}"
        values   = ["false"]
      }

      condition {
        test     = "StringNotEquals"
        variable = "aws:ResourceTag/${statement.key}"
        values   = [statement.value]
      }
    }
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.prefix}:iam::${local.account_id}:role/aws-service-role/*"]
  }
}
