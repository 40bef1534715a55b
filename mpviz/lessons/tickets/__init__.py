"""Lock: the ticket rush on a real JSON file."""
