"""RBAC machinery with no I/O: rule evaluation and the default (bootstrap) policy."""
