# Settings of the production environment (the release workflow plans with -var-file).
environment = "production"
# Required in production: the ACM certificate of the service's domain (HTTPS).
certificate_arn = ""
# The roles created here carry deploy/pipeline's permissions boundary (its deploy roles require it).
pipeline_role_boundary = true
