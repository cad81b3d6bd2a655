# Settings of the staging environment (the release workflow plans with -var-file).
environment   = "staging"
desired_count = 1
