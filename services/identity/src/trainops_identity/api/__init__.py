"""HTTP of the identity service: the JSON API and the browser pages."""
