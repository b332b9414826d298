"""Health of one app instance, for load balancers and monitoring."""
