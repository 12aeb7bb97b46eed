"""The OpenAPI 3.1 document, generated from the service descriptors and the protos' comments."""
