#!/bin/bash
# Issue 2 literally: a kernel that runs for 30 s with default heartbeats
# (1 s x 3) must not get its engine expired.
. "$(dirname "$0")/lib.sh"
start_cluster 1
expect "30 s kernel" "$(mcj apply sleep 30000)" "null"
expect "engine still registered" "$(mcj ids)" "[0]"
expect "same engine, nothing failed" "$(mcj engines | grep -o '"done":1,"failed":0')" '"done":1,"failed":0'
finish
