"""openeks: a self-hostable managed Kubernetes service that speaks the Amazon EKS API."""

__version__ = "0.1.0"
