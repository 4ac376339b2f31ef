"""EKS managed node groups as Auto Scaling groups of instances: the controller, scaling,
draining and rolling version updates."""
