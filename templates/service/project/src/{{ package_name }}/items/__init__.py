"""The example domain: items. Copy its rooms (router, schemas, models, service...) for a new one."""
