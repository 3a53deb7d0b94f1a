"""HTTP routes, one blueprint per resource; thin: parse, authorize, call a service, shape."""
