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

resource "aws_iam_role_policy" "build" {
  name   = "push-images"
  role   = aws_iam_role.build.id
  policy = data.aws_iam_policy_document.build.json
}

resource "aws_iam_role_policy" "plan" {
  name   = "plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

resource "aws_iam_role_policy" "deploy_state" {
  for_each = toset(var.environments)

  name   = "terraform-state"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_state[each.key].json
}

resource "aws_iam_role_policy" "deploy_release" {
  for_each = toset(var.environments)

  name   = "release"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_release[each.key].json
}

resource "aws_iam_role_policy" "deploy_infrastructure" {
  for_each = toset(var.environments)

  name   = "infrastructure"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_infrastructure[each.key].json
}
