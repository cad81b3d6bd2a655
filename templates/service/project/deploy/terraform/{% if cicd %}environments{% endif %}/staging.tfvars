# Settings of the staging environment (the release workflow plans with -var-file).
environment   = "staging"
desired_count = 1
# The roles created here carry deploy/pipeline's permissions boundary (its deploy roles require it).
pipeline_role_boundary = true
