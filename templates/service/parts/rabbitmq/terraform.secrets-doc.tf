# - RABBITMQ_URL: the whole URL with the broker user's password (amazonmq.tf).
