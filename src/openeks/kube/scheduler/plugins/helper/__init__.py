"""Helpers shared by several plugins: taints/tolerations, node affinity, default spreading."""
