#!/bin/sh
# Fan bg-generate out over N local processes with GNU parallel --pipe and file every result once.
# usage: examples/fanout.sh [jobs.ndjson] [N processes] [requests in flight per process]
set -u
jobs=${1:-jobs.ndjson}
procs=${2:-4}
inflight=${3:-16}
# --pipe -N 50: blocks of 50 whole lines, one bg-generate per block, at most
# $procs at a time; each prints whole lines, so the merged stream stays valid
parallel --pipe -N 50 -j "$procs" bg-generate -j "$inflight" <"$jobs" | bg-file >>results.ndjson
bg-report --plan "$jobs" results.ndjson
