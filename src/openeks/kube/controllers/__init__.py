"""The controller manager and its controllers: watch, enqueue, reconcile, through the API."""
