    aws_secretsmanager_secret.auth_clients.arn,
