// Replaced by the server implementation.
