data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # "<project>-<environment>": every resource name starts with it.
  name = "${var.project_name}-${var.environment}"
  # Load balancers and target groups take at most 32 characters, not ending with a hyphen.
  short_name = trimsuffix(substr(local.name, 0, 32), "-")

  azs = slice(data.aws_availability_zones.available.names, 0, 2)

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  container_name = var.project_name
  container_port = 8000

  # Deploy by digest ("sha256:...") for a reproducible rollout, or by an immutable tag.
  image = (
    startswith(var.image_tag, "sha256:")
    ? "${aws_ecr_repository.app.repository_url}@${var.image_tag}"
    : "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
  )

  https_enabled = var.certificate_arn != ""
}
