package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/runner"
	"github.com/raftsim/raftsim/internal/runner/cost"
	"github.com/raftsim/raftsim/internal/runner/stats"
	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/sweep"
	"github.com/raftsim/raftsim/internal/study/tune"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

const tuneAbout = `Recommends etcd's --heartbeat-interval and --election-timeout for a cluster
from the cluster's own metrics. Give each member's Prometheus exposition
(/metrics, or a file saved from it) with --metrics: the peers' round-trip
histograms (etcd_network_peer_round_trip_time_seconds) become the network's
one-way latency (half a round trip, per link where both ends were scraped),
the WAL fsync histogram (etcd_disk_wal_fsync_duration_seconds) the disk's
write time, drawn within buckets so that a heavy tail is kept; fsyncs longer
than the smallest heartbeat tried stall a member (etcd runs no tick and sends
no heartbeat while it waits for its WAL), at the rate the scrapes show.

For each pair of heartbeat and election timeout it runs leader crashes
(failover time: p50 and p99 with their 95% intervals) and a healthy cluster's
steady state (leader changes and needless elections a day, with their exact
95% Poisson intervals) on etcd's raft, with etcd's ticks, and recommends the
pair that meets both goals (--failover-p99, --max-leader-changes-per-day)
with the most margin, and the etcd flags that set it. Settings whose leader
changes straddle the goal get more steady state, up to --max-steady-time.

Given two scrapes of a member (--metrics taken at two times), it also
compares the leader changes the cluster saw in between
(etcd_server_leader_changes_seen_total) with the rate the model predicts at
the current setting, and says whether the model explains them. A file's
scrape time is its modification time unless written FILE@TIME (RFC 3339).
`

const tuneExamples = `  raftsim tune --metrics http://10.0.0.1:2379/metrics --metrics http://10.0.0.2:2379/metrics --metrics http://10.0.0.3:2379/metrics
  raftsim tune --metrics n1.prom --metrics n2.prom --metrics n3.prom --failover-p99 2s --max-leader-changes-per-day 0.5
  raftsim tune --metrics 'n1-a.prom@2026-12-07T05:37:46Z' --metrics 'n1-b.prom@2026-12-07T06:37:46Z' ... --vars n1.vars.json
  raftsim tune --metrics n1.prom ... --members 5 --heartbeat-interval 100ms,200ms --election-timeout 1s,2s,5s --save tune-out
`

type tuneFlags struct {
	metrics, heartbeats, elections []string
	vars                           string
	currentHeartbeat, currentElect string
	members                        int
	failoverP99                    string
	maxChangesPerDay               float64
	preVote                        string
	steady, maxSteady              string
	save                           string
}

func (tf *tuneFlags) register(c *scenarioCommand) {
	fs := c.fs
	fs.StringArrayVar(&tf.metrics, "metrics", nil, "a member's Prometheus metrics: an http(s) URL of its /metrics, or a file saved from it, FILE@TIME to say when it was taken (repeatable: every member, once or twice)")
	fs.StringVar(&tf.vars, "vars", "", "a member's /debug/vars (a file, or its URL), for the current --heartbeat-interval and --election-timeout (default: a --metrics URL's own; else etcd's defaults)")
	fs.StringVar(&tf.currentHeartbeat, "current-heartbeat", "", "the cluster's current --heartbeat-interval, when neither /debug/vars nor etcd's default (100ms) says it")
	fs.StringVar(&tf.currentElect, "current-election-timeout", "", "the cluster's current --election-timeout, when neither /debug/vars nor etcd's default (1000ms) says it")
	fs.IntVar(&tf.members, "members", 0, "members to simulate (default: the cluster's size, from the peers its members measure)")
	fs.StringVar(&tf.failoverP99, "failover-p99", "3s", "goal: the 99th percentile of the time from a leader's crash to a new leader, at most this")
	fs.Float64Var(&tf.maxChangesPerDay, "max-leader-changes-per-day", 1, "goal: leader changes a day in a healthy cluster, at most this")
	fs.StringArrayVar(&tf.heartbeats, "heartbeat-interval", []string{"50ms,100ms,200ms,500ms"}, "heartbeat intervals to try (etcd's --heartbeat-interval; a plain number is milliseconds)")
	fs.StringArrayVar(&tf.elections, "election-timeout", []string{"500ms,1s,2s,3s,5s,10s"}, "election timeouts to try (etcd's --election-timeout; a plain number is milliseconds); pairs etcd refuses (below 5 heartbeats) are left out")
	fs.StringVar(&tf.preVote, "pre-vote", "", "whether the members run Pre-Vote, true or false (default: etcd's default for the version scraped: 3.5 and later do)")
	fs.StringVar(&tf.steady, "steady-time", "24h", "virtual time of a healthy cluster's steady state per setting")
	fs.StringVar(&tf.maxSteady, "max-steady-time", "", "the most steady state a setting gets while its leader changes straddle the goal (default: enough to show 0 changes below the goal, at least --steady-time)")
	fs.StringVar(&tf.save, "save", "", "write the scenario tune ran and its data files (histograms) into this new directory, so that its settings can be replayed")
}

func tuneCmd(args []string, out, errw io.Writer) error {
	c := newScenarioCommand(commandSpec{name: "tune", synopsis: "tune --metrics FILE|URL [--metrics ...] [FLAGS]", about: tuneAbout, examples: tuneExamples,
		leave: func(ov *scenarios.Override) bool { return ov.Flag != "seed" && ov.Flag != "trials" }}, errw, nil)
	var tf tuneFlags
	tf.register(c)
	c.guarded()
	c.outputs(true, "")
	if err := c.parse(args, out, nil); err != nil {
		return err
	}
	if len(c.fs.Args()) > 0 {
		return badUsage("tune takes no scenario (%q): it builds one from --metrics", c.fs.Args()[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p, err := tf.plan(ctx, c)
	if err != nil {
		return err
	}
	rep, err := p.run(ctx)
	if err != nil {
		return err
	}
	if tf.save != "" {
		if err := disk.CreateDir(tf.save, p.files); err != nil {
			return fmt.Errorf("--save %s: %v", tf.save, err)
		}
	}
	if err := c.output.file().write(out, func(w io.Writer) error { return rep.Write(w, c.format) }); err != nil {
		return err
	}
	summarize(errw, "tune", scenarios.Count(len(rep.Settings), "setting", "settings")+" of "+scenarios.Count(rep.Trials, "trial", "trials"), 0, c.format, c.output.file())
	return nil
}

// tunePlan is what tune will run: the model, its settings and their
// scenarios, and the goals.
type tunePlan struct {
	c                 *scenarioCommand
	model             *tune.Model
	cluster           *tune.Cluster
	files             map[string][]byte
	notes             []string
	goals             tune.Goals
	settings          []tune.Setting
	current           tune.Setting
	currentFrom       string
	cells             []*scenarios.Scenario
	overrides         []scenarios.Overrides
	steady, maxSteady time.Duration
	saved             bool
}

// plan reads the flags and the metrics, builds the model and the
// scenarios of every setting, and checks what running them will cost.
func (tf *tuneFlags) plan(ctx context.Context, c *scenarioCommand) (*tunePlan, error) {
	p := &tunePlan{c: c, saved: tf.save != ""}
	if err := tf.readGoals(p); err != nil {
		return nil, err
	}
	heartbeats, err := durationList("--heartbeat-interval", tf.heartbeats)
	if err != nil {
		return nil, err
	}
	elections, err := durationList("--election-timeout", tf.elections)
	if err != nil {
		return nil, err
	}
	if tf.save != "" {
		if err := checkNewDir("--save", tf.save); err != nil {
			return nil, err
		}
	}
	members, err := loadMembers(ctx, tf.metrics)
	if err != nil {
		return nil, err
	}
	if p.current, p.currentFrom, err = tf.currentSetting(ctx); err != nil {
		return nil, err
	}
	if p.settings = tune.Grid(heartbeats, elections); len(p.settings) == 0 {
		return nil, badUsage("--heartbeat-interval and --election-timeout: no pair etcd accepts (an election timeout of 5 to 50000 heartbeats, a whole number of them)")
	}
	p.settings = tune.With(p.settings, p.current)
	if p.model, err = tune.NewModel(members, p.settings[0].Heartbeat); err != nil {
		return nil, badUsage("--metrics: %v", err)
	}
	if err := tf.buildCells(p); err != nil {
		return nil, err
	}
	var units []cost.Unit
	for i, s := range p.cells {
		units = append(units, c.cellUnits(i, s, p.steady)...)
	}
	return p, c.checkCost(units, true)
}

// readGoals reads the goals and the steady-state times.
func (tf *tuneFlags) readGoals(p *tunePlan) error {
	d, err := scenarios.ParseDuration(tf.failoverP99)
	if err != nil || d <= 0 {
		return badUsage("--failover-p99 %q: want a duration above 0, such as 3s", tf.failoverP99)
	}
	if !(tf.maxChangesPerDay > 0) || math.IsInf(tf.maxChangesPerDay, 0) {
		return badUsage("--max-leader-changes-per-day %g: want a rate above 0 (no length of steady state shows a rate of 0: its interval always reaches above 0)", tf.maxChangesPerDay)
	}
	p.goals = tune.Goals{FailoverP99: d, LeaderChangesPerDay: tf.maxChangesPerDay}
	if p.steady, err = scenarios.ParseDuration(tf.steady); err != nil || p.steady <= 0 {
		return badUsage("--steady-time %q: want a duration above 0: tune judges leader changes in the steady state", tf.steady)
	}
	// Enough to show no leader change at all below the goal.
	need, _ := sweep.HoursToDecide(0, tf.maxChangesPerDay/24)
	def := max(p.steady, time.Duration(need*float64(time.Hour)))
	p.maxSteady, err = maxSteadyTimeOr(tf.maxSteady, p.steady, def)
	return err
}

// maxSteadyTimeOr reads --max-steady-time as sweep does, with def its
// default.
func maxSteadyTimeOr(flag string, steady, def time.Duration) (time.Duration, error) {
	if flag == "" {
		return def, nil
	}
	return maxSteadyTime(flag, steady)
}

// durationList reads a list flag of durations; a plain number is
// milliseconds, as etcd writes them.
func durationList(flag string, texts []string) ([]time.Duration, error) {
	var out []time.Duration
	for _, text := range texts {
		for _, item := range splitList(text) {
			if n, err := strconv.ParseUint(item, 10, 32); err == nil {
				out = append(out, time.Duration(n)*time.Millisecond)
				continue
			}
			d, err := scenarios.ParseDuration(item)
			if err != nil || d <= 0 {
				return nil, badUsage("%s %q: want durations above 0 (100ms, 1s) or milliseconds (100)", flag, item)
			}
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, badUsage("%s: an empty list", flag)
	}
	return out, nil
}

// loadMembers reads every --metrics source and groups the scrapes by
// member.
func loadMembers(ctx context.Context, sources []string) ([]tune.Member, error) {
	if len(sources) == 0 {
		return nil, badUsage("--metrics: give each member's metrics (a /metrics URL, or a file saved from it)")
	}
	var scrapes []*metrics.Scrape
	for _, arg := range sources {
		src, at, err := sourceAt(arg)
		if err != nil {
			return nil, err
		}
		s, err := metrics.Load(ctx, src)
		if err != nil {
			return nil, badUsage("--metrics: %v", err)
		}
		if !at.IsZero() {
			s.At = at
		}
		scrapes = append(scrapes, s)
	}
	members, err := tune.Members(scrapes)
	if err != nil {
		return nil, badUsage("--metrics: %v", err)
	}
	return members, nil
}

// sourceAt splits FILE@TIME; a URL, or a file without @, has no time of
// its own.
func sourceAt(arg string) (string, time.Time, error) {
	i := strings.LastIndex(arg, "@")
	if i < 0 || strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return arg, time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, arg[i+1:])
	if err != nil {
		return "", time.Time{}, badUsage("--metrics %q: the time after @ is not RFC 3339 (2026-12-07T05:37:46Z): %v", arg, err)
	}
	return arg[:i], at, nil
}

// currentSetting returns the cluster's current setting and where it came
// from: the flags, /debug/vars, or etcd's defaults.
func (tf *tuneFlags) currentSetting(ctx context.Context) (tune.Setting, string, error) {
	cur := tune.Setting{Heartbeat: metrics.EtcdHeartbeat, Election: metrics.EtcdElectionTimeout}
	from := "etcd's defaults: no /debug/vars says otherwise (--vars, --current-heartbeat, --current-election-timeout)"
	src := tf.vars
	if src == "" {
		for _, m := range tf.metrics {
			if strings.HasPrefix(m, "http://") || strings.HasPrefix(m, "https://") {
				src = m
				break
			}
		}
	}
	if src != "" {
		cfg, err := metrics.LoadConfig(ctx, src)
		if err != nil {
			return cur, "", badUsage("--vars: %v", err)
		}
		cur = tune.Setting{Heartbeat: cfg.Heartbeat, Election: cfg.ElectionTimeout}
		from = "the command line in " + src
		if !cfg.HeartbeatGiven || !cfg.ElectionGiven {
			from += " (etcd's defaults where it gives none; an environment variable or --config-file " + cfg.ConfigFile + " would not show)"
		}
	}
	for _, f := range []struct {
		flag, text string
		d          *time.Duration
	}{{"--current-heartbeat", tf.currentHeartbeat, &cur.Heartbeat}, {"--current-election-timeout", tf.currentElect, &cur.Election}} {
		if f.text == "" {
			continue
		}
		ds, err := durationList(f.flag, []string{f.text})
		if err != nil || len(ds) != 1 {
			return cur, "", badUsage("%s %q: want one duration", f.flag, f.text)
		}
		*f.d, from = ds[0], "the flags"
	}
	if err := cur.Check(); err != nil {
		return cur, "", badUsage("the current setting (%s): %v", from, err)
	}
	return cur, from, nil
}

// buildCells builds the scenario of every setting from the model.
func (tf *tuneFlags) buildCells(p *tunePlan) error {
	m := p.model
	size := m.Size
	if tf.members != 0 {
		size = tf.members
	}
	if size < 1 || size > scenarios.MaxNodes {
		return badUsage("--members %d: want 1 to %d", size, scenarios.MaxNodes)
	}
	preVote := tune.PreVote(m.Version)
	if tf.preVote != "" {
		v, err := strconv.ParseBool(tf.preVote)
		if err != nil {
			return badUsage("--pre-vote %q: want true or false", tf.preVote)
		}
		preVote = v
	}
	dir := tf.save
	if dir == "" {
		dir = "tune" // named so, never written
	}
	p.cluster = &tune.Cluster{Model: m, Size: size, PreVote: preVote, Dir: dir}
	p.files, p.notes = p.cluster.Files(p.current)
	base, err := p.cluster.Scenario(p.files)
	if err != nil {
		return fmt.Errorf("tune: the scenario it built: %v", err)
	}
	for _, st := range p.settings {
		o, err := tune.Overrides(p.c.o, st)
		if err != nil {
			return err
		}
		s, err := o.Apply(base)
		if err != nil {
			return fmt.Errorf("tune: %s: %v", st, err)
		}
		p.cells, p.overrides = append(p.cells, s), append(p.overrides, o)
	}
	return nil
}

// run runs every setting's trials and steady state, tops up the steady
// state where the goals need it, and builds the report.
func (p *tunePlan) run(ctx context.Context) (*report.Tune, error) {
	c := p.c
	runs, _ := runner.SteadyRuns(p.steady)
	trials := p.cells[0].Trials
	bar := newProgress(c.progress(), "tune", len(p.cells)*(trials+runs), unitsDone(runs))
	defer bar.finish()
	interrupted := func() bool { return ctx.Err() != nil }
	aggs, steadies := make([]*runner.Aggregate, len(p.cells)), make([]*runner.Aggregate, len(p.cells))
	outcomes := make([]tune.Outcome, len(p.cells))
	done := 0
	for i, s := range p.cells {
		opt := runner.Options{Trials: s.Trials, Seed: s.Seed, Workers: c.output.workers, Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}
		aggs[i] = runner.Run(trial.NewPlan(s), opt)
		done += s.Trials
		var err error
		opt = runner.Options{Seed: s.Seed, Workers: c.output.workers, Progress: func(n int) { bar.set(done + n) }, Stop: interrupted}
		if steadies[i], err = runner.RunSteady(s, p.steady, opt); err != nil {
			return nil, err
		}
		done += runs
		if interrupted() {
			return nil, errInterrupted
		}
		outcomes[i] = tune.OutcomeOf(aggs[i], steadies[i])
	}
	t := &topUp{steady: p.steady, most: p.maxSteady, workers: c.output.workers, bar: bar, total: len(p.cells) * (trials + runs),
		done: done, interrupted: interrupted}
	if _, err := t.run(func(i int) *scenarios.Scenario { return p.cells[i] }, steadies,
		func() []int { return p.goals.NeedMore(outcomes) },
		func(i int) { outcomes[i] = tune.OutcomeOf(aggs[i], steadies[i]) }); err != nil {
		return nil, err
	}
	return p.report(outcomes)
}

// checkNewDir makes sure dir can be created: it does not exist, and its
// parent does.
func checkNewDir(flag, dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return badUsage("%s %s: it exists; give a new directory (nothing is overwritten)", flag, dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return badUsage("%s %s: %v", flag, dir, err)
	}
	if st, err := os.Stat(filepath.Dir(filepath.Clean(dir))); err != nil || !st.IsDir() {
		return badUsage("%s %s: its parent directory does not exist", flag, dir)
	}
	return nil
}

// perDay is a rate a day with its interval, for the report.
func perDay(o *tune.Outcome, events int64) (report.Num, [2]report.Num) {
	r, lo, hi := o.PerDay(events)
	return report.Num(r), [2]report.Num{report.Num(lo), report.Num(hi)}
}

// poissonPerDay is k events in hours as a rate a day with its interval.
func poissonPerDay(k int64, hours float64) (report.Num, [2]report.Num) {
	lo, hi := stats.Poisson95(k)
	d := hours / 24
	return report.Num(float64(k) / d), [2]report.Num{report.Num(lo / d), report.Num(hi / d)}
}
