// Package benchmarks measures Patron's end-to-end figures: ingest wall time
// and peak memory of the real binary, reader throughput, and synthetic data
// generation at scale. Nothing here runs in `make test`; use the Makefile's
// bench targets:
//
//	make bench-ingest   # Online Retail ingest (wall, peak RSS) and canonical CSV lines/s
//	make bench-gen      # patron gen + ingest of 10M lines (wall, peak RSS)
//
// Commands run as subprocesses of a freshly built binary, so wall time and
// peak RSS (getrusage of the child) are what a user of `patron` sees.
package benchmarks
