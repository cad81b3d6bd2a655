    aws_secretsmanager_secret.rabbitmq_url.arn,
