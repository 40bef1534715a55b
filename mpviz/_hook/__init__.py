"""A folder put first on a watched program's PYTHONPATH: its ``sitecustomize`` instruments every Python process."""
