"""STS: who am I, and temporary credentials for roles."""

from openeks.aws.sts.backend import StsService

__all__ = ["StsService"]
