# The delivery pipeline's own AWS resources, applied once per account by an administrator (see
# docs/deploy.md): GitHub's OIDC provider, the roles the release workflow assumes, and the bucket
# that holds the service's Terraform state. Its own state is local until the bucket exists; then
# `terraform init -migrate-state` moves it there.

terraform {
  required_version = ">= 1.10" # S3 native state locking (use_lockfile)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Service   = var.project_name
      Component = "delivery-pipeline"
      ManagedBy = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  oidc_host  = "token.actions.githubusercontent.com"
  oidc_provider_arn = (
    var.create_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.oidc_host}"
  )
  state_bucket = coalesce(var.state_bucket_name, "${var.project_name}-tfstate-${local.account_id}")
}
