"""Admission: the mutating then validating plugin chain every write passes through."""

from openeks.kube.apiserver.admission.base import Admission, AdmissionRequest, Plugin

__all__ = ["Admission", "AdmissionRequest", "Plugin"]
