# Four kinds of role, each for one kind of job of .github/workflows/release.yml:
#   build          push images to the first environment's repository (pushes to main only)
#   plan           read-only: the state, and what `terraform plan` refreshes (pull requests)
#   deploy-<env>   apply the reviewed plan and roll out (jobs bound to that GitHub environment)
# Writes are scoped to this service's resources: names starting with <project>-<environment>,
# or the Service/Environment tags that deploy/terraform puts on everything it creates.

locals {
  prefix      = "arn:${local.partition}"
  region_acct = "${var.aws_region}:${local.account_id}"
  state_key   = { for env in var.environments : env => "${var.project_name}/${env}.tfstate" }
  first_env   = var.environments[0]
  repository_arn = {
    for env in var.environments : env => "${local.prefix}:ecr:${local.region_acct}:repository/${var.project_name}-${env}"
  }
}

resource "aws_iam_role" "build" {
  name                 = "${var.project_name}-github-build"
  assume_role_policy   = data.aws_iam_policy_document.trust["build"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "plan" {
  name                 = "${var.project_name}-github-plan"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.environments)

  name                 = "${var.project_name}-github-deploy-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.trust["deploy-${each.key}"].json
  max_session_duration = 3600
}

# The permissions are customer-managed policies (policies.tf), not inline ones: an inline
# policy's 10,240 characters are shared by all of a role's inline policies, while each managed
# policy has 6,144 of its own and a role takes up to ten. The read list, which grows with the
# capabilities, is one policy shared by the plan and deploy roles.
locals {
  role_policy_attachments = merge(
    {
      "build/build" = { role = aws_iam_role.build.name, policy_arn = aws_iam_policy.build.arn }
      "plan/read"   = { role = aws_iam_role.plan.name, policy_arn = aws_iam_policy.read.arn }
      "plan/plan"   = { role = aws_iam_role.plan.name, policy_arn = aws_iam_policy.plan.arn }
    },
    {
      for env in var.environments : "deploy-${env}/read" => {
        role = aws_iam_role.deploy[env].name, policy_arn = aws_iam_policy.read.arn
      }
    },
    {
      for key, policy in aws_iam_policy.deploy : "deploy-${key}" => {
        role = aws_iam_role.deploy[split("/", key)[0]].name, policy_arn = policy.arn
      }
    },
  )
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = local.role_policy_attachments

  role       = each.value.role
  policy_arn = each.value.policy_arn
}
