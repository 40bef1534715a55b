#!/usr/bin/env bash
# Record the real runs that the snapshot tests and screenshots replay.
# Run from the repository root; commit the recordings it writes.
set -euo pipefail
out=tests/recordings
mkdir -p "$out"
mpviz=(.venv/bin/mpviz run)
"${mpviz[@]}" ktv --headless --groups 7 --seed 3 --record "$out/ktv.jsonl" >/dev/null
"${mpviz[@]}" traffic --headless --cars 6 --light 3 --seed 1 --record "$out/traffic.jsonl" >/dev/null
"${mpviz[@]}" prodcons --headless --producers 2 --consumers 3 --items 5 --seed 2 --record "$out/prodcons.jsonl" >/dev/null
"${mpviz[@]}" prodcons --headless --naive --items 4 --seed 2 --record "$out/prodcons-naive.jsonl" >/dev/null || true
ls -l "$out"
