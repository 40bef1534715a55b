"""A TCP server with one process per connection."""
