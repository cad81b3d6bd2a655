# - AUTH_CLIENT_SECRET, AUTH_MACHINE_CLIENT_SECRET: the Cognito app clients' secrets (cognito.tf).
