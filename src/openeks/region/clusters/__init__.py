"""EKS clusters as running control planes: the plan, the controller, access."""
