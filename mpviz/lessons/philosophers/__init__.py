"""The dining philosophers: five forks, five locks, and the classic deadlock (beyond the tutorial)."""
