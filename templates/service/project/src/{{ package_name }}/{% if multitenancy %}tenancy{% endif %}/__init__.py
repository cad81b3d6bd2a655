"""Multi-tenancy: each request acts for the tenant its verified token names, and PostgreSQL's
row-level security keeps every tenant's rows apart, whatever the application code forgets."""
