# The permissions boundary of every role deploy/terraform creates (task execution, task, flow
# logs, RDS monitoring): whatever policies a deploy role gives them, they can never act on IAM,
# STS, Organizations or the account, so a deploy role cannot make itself a more powerful role.
# Its name is outside the deploy roles' `<project>-<environment>-*` reach: they cannot edit it.

locals {
  # Spelled out rather than read from the resource, so the deploy roles' policies are known at
  # plan time. deploy/terraform builds the same ARN (pipeline_role_boundary).
  service_role_boundary_name = "${var.project_name}-github-service-role-boundary"
  service_role_boundary_arn  = "${local.prefix}:iam::${local.account_id}:policy/${local.service_role_boundary_name}"
}

# A boundary grants nothing: it caps what the roles' own policies grant. Checkov reads it as a
# grant of everything but identity actions, hence these five skips (this document only).
data "aws_iam_policy_document" "service_role_boundary" {
  #checkov:skip=CKV_AWS_107:a permissions boundary, not a grant (see above)
  #checkov:skip=CKV_AWS_108:a permissions boundary, not a grant (see above)
  #checkov:skip=CKV_AWS_109:a permissions boundary, not a grant (see above)
  #checkov:skip=CKV_AWS_110:a permissions boundary, not a grant; it denies iam:* to the roles
  #checkov:skip=CKV_AWS_111:a permissions boundary, not a grant (see above)
  statement {
    sid         = "NothingOnIdentities"
    not_actions = ["account:*", "iam:*", "organizations:*", "sts:*"]
    resources   = ["*"]
  }
}

resource "aws_iam_policy" "service_role_boundary" {
  name        = local.service_role_boundary_name
  description = "Permissions boundary of the roles deploy/terraform creates for ${var.project_name}"
  policy      = data.aws_iam_policy_document.service_role_boundary.json
}
