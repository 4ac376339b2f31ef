"""IAM: users, access keys and roles, as the SDKs send them (query protocol)."""

from openeks.aws.iam.backend import IamService

__all__ = ["IamService"]
