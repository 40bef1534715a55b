"""Lock vs join vs nothing: the tutorial's running/done lines."""
