# What the release workflow needs: set these as GitHub variables (docs/deploy.md).

output "aws_build_role_arn" {
  description = "Repository variable AWS_BUILD_ROLE_ARN."
  value       = aws_iam_role.build.arn
}

output "aws_plan_role_arn" {
  description = "Repository variable AWS_PLAN_ROLE_ARN."
  value       = aws_iam_role.plan.arn
}

output "aws_deploy_role_arns" {
  description = "Per GitHub environment: its variable AWS_DEPLOY_ROLE_ARN."
  value       = { for env, role in aws_iam_role.deploy : env => role.arn }
}

output "tf_state_bucket" {
  description = "Repository variable TF_STATE_BUCKET."
  value       = aws_s3_bucket.state.bucket
}
