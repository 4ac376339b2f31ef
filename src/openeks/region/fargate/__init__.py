"""Fargate's rules with no I/O, for the region's Fargate controller, admission webhook and
scheduler: which profile a pod belongs to (`selectors`), which pods Fargate refuses and
why (`support`), how big a pod's Fargate capacity is (`sizing`), and what running pods
cost (`metering`). The region code that acts on pods calls these; nothing here reads the
region state or a cluster.
"""
