"""Queue both ways, and Pipe."""
