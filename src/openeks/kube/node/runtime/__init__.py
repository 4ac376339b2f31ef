"""Container runtimes behind one interface (`base.Runtime`): runc and simulated."""
