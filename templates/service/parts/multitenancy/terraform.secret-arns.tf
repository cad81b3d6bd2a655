    aws_secretsmanager_secret.stripe.arn,
