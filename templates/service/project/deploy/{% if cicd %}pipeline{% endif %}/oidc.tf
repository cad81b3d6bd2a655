# GitHub Actions' OIDC identity provider: the workflow exchanges a short-lived token, signed by
# GitHub for one repository, branch or environment, for the role's temporary credentials.

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate through its own trust store; the list is still required.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

# Who may assume each role: the audience, and the exact subject (repository plus branch, pull
# request or environment). A fork, another branch or another environment gets nothing.
data "aws_iam_policy_document" "trust" {
  for_each = merge(
    {
      build = "repo:${var.github_repository}:ref:refs/heads/${var.release_branch}"
      plan  = "repo:${var.github_repository}:pull_request"
    },
    { for env in var.environments : "deploy-${env}" => "repo:${var.github_repository}:environment:${env}" },
  )

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [each.value]
    }
  }
}
