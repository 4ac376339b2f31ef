"""The scheduling framework: plugin interfaces, statuses, cycle state, registry, profiles,
and the runtime that runs a profile's plugins at each extension point."""
