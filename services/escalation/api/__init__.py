"""The gRPC edge: validated requests in, protobuf replies out."""
