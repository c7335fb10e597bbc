// Package metrics reads what etcd members say about themselves, and
// turns it into what a scenario needs. From the Prometheus text
// exposition of a member's /metrics (parsed with prometheus/common's
// expfmt, from a file or an http(s) URL: [Load], [Read]) it takes the
// round-trip histograms of its peer links, its WAL fsync histogram and
// its count of leader changes; from /debug/vars the heartbeat interval
// and election timeout its command line gives ([LoadConfig]).
//
// Histograms become empirical distributions ([Histogram.Dist], through
// [scenarios.EmpiricalDist]), drawn bucket by bucket, so that a heavy tail
// (0.1% of fsyncs at 1-4s) is kept: [Links] halves the round trips of each
// pair of members into one-way latency per directed link, [Network] over
// all links, [Persist] pools the members' fsyncs into the disk's write
// time. Two scrapes of a member give its rate of leader changes
// ([LeaderChangesBetween]).
//
// metrics never runs trials and never prints. Reading is bounded in size
// ([MaxBytes]) and, for a URL, in time; nothing here depends on map
// order: series are sorted by their labels.
package metrics
