"""EC2 instances as running node agents: user data, joining a cluster, the controller."""
