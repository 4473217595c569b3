"""The deployment test: a real multi-process Airflow (PostgreSQL, Redis, Celery) against the sandbox."""
