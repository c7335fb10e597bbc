package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// YAML writes s as a scenario file that [Parse] reads back to the same
// scenario: every value explicit, in canonical form. It is how a scenario
// made by a program (a swarm trial, a shrunk failure) is shown to people.
// It names the data files of empirical distributions by their absolute
// paths, so that the file reads them wherever it is written.
func (s *Scenario) YAML() []byte {
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	q := strconv.Quote
	dur := FormatDuration
	if s.Name != "" {
		w(0, "name: %s", q(s.Name))
	}
	if s.Description != "" {
		w(0, "description: %s", q(s.Description))
	}
	c := &s.Cluster
	w(0, "cluster:")
	w(1, "nodes: %d", c.Nodes)
	w(1, "election_timeout: %s", c.ElectionTimeout)
	w(1, "heartbeat: %s", q(c.Heartbeat.String()))
	w(1, "options:")
	for _, o := range ProtocolOptions {
		w(2, "%s: %t", o.Key, *o.Field(&c.Options))
	}
	w(1, "impl: %s", c.Impl)
	if c.Impl == ImplEtcd {
		w(1, "tick: %s", dur(c.TickLength()))
	}
	if len(c.Start) > 0 {
		w(1, "start:")
		for _, d := range c.Start {
			w(2, "- %s", q(writtenDist(d)))
		}
	}
	w(1, "term: %d", c.Term)
	if c.Persist != nil {
		w(1, "persist: %s", q(writtenDist(*c.Persist)))
	}
	if c.TimerJitter != nil {
		w(1, "timer_jitter: %s", q(writtenDist(*c.TimerJitter)))
	}
	if c.Processing != nil {
		w(1, "processing: %s", q(writtenDist(*c.Processing)))
	}
	if len(c.Logs) > 0 {
		w(1, "logs:")
		for _, l := range c.Logs {
			w(2, "%s: [%s]", NodeName(l.Node), joinUints(l.Terms))
		}
	}
	nw := &s.Network
	w(0, "network:")
	w(1, "latency: %s", q(writtenDist(nw.Latency)))
	w(1, "loss: %s", float(nw.Loss))
	w(1, "duplicate: %s", float(nw.Dup))
	w(1, "fifo: %t", nw.FIFO)
	if len(nw.Links) > 0 {
		w(1, "links:")
		for _, l := range nw.Links {
			w(2, "- from: %s", selector(l.From))
			w(3, "to: %s", selector(l.To))
			w(3, "both: %t", l.Both)
			if l.Latency != nil {
				w(3, "latency: %s", q(writtenDist(*l.Latency)))
			}
			if l.Loss != nil {
				w(3, "loss: %s", float(*l.Loss))
			}
			if l.Dup != nil {
				w(3, "duplicate: %s", float(*l.Dup))
			}
		}
	}
	if len(s.Faults) > 0 {
		w(0, "faults:")
		writeSteps(&b, s.Faults, 1)
	}
	m := &s.Measure
	w(0, "measure:")
	w(1, "from: %s", m.From)
	w(1, "until: %s", m.Until)
	if m.SettleSet {
		w(1, "settle: %s", dur(m.Settle))
	}
	w(1, "limit: %s", dur(m.Limit))
	e := &s.Expect
	w(0, "expect:")
	var invs []string
	for _, inv := range e.Invariants {
		invs = append(invs, inv.String())
	}
	w(1, "invariants: [%s]", strings.Join(invs, ", "))
	if e.LeaderWithin > 0 {
		w(1, "leader_within: %s", dur(e.LeaderWithin))
	}
	w(1, "no_leader: %t", e.NoLeader)
	w(1, "one_leader_at_end: %t", e.OneLeaderAtEnd)
	if e.ConvergeWithin > 0 {
		w(1, "converge_within: %s", dur(e.ConvergeWithin))
	}
	if s.Steady.Duration > 0 || s.Steady.FaultsSet {
		w(0, "steady:")
		if s.Steady.Duration > 0 {
			w(1, "duration: %s", dur(s.Steady.Duration))
		}
		if s.Steady.FaultsSet {
			w(1, "faults:")
			writeSteps(&b, s.Steady.Faults, 2)
		}
	}
	w(0, "trials: %d", s.Trials)
	w(0, "seed: %d", s.Seed)
	if s.TrialSeeds != nil {
		w(0, "trial_seeds: [%s]", joinUints(s.TrialSeeds))
	}
	return []byte(b.String())
}

func writeSteps(b *strings.Builder, steps []Step, indent int) {
	pad := strings.Repeat("  ", indent)
	for _, st := range steps {
		lead := pad + "- "
		line := func(format string, args ...any) {
			b.WriteString(lead)
			fmt.Fprintf(b, format, args...)
			b.WriteByte('\n')
			lead = pad + "  "
		}
		if st.HasAt {
			line("at: %s", FormatDuration(st.At))
		}
		if st.After != AfterPrevious {
			line("after: %s", st.After)
		}
		switch {
		case st.DelayInHeartbeat:
			line("delay: within-heartbeat")
		case st.Delay != (sim.Dist{}):
			line("delay: %s", strconv.Quote(writtenDist(st.Delay)))
		}
		if st.Note != "" {
			line("note: %s", strconv.Quote(st.Note))
		}
		if st.Repeat > 0 {
			line("repeat: %d", st.Repeat)
			line("steps:")
			writeSteps(b, st.Steps, indent+2)
		}
		for _, a := range st.Actions {
			line("%s", actionYAML(&a, pad+"    "))
		}
		if lead == pad+"- " {
			line("note: wait") // a step with nothing else still needs a key
		}
	}
}

func actionYAML(a *Action, pad string) string {
	field := func(key, value string) string { return "\n" + pad + key + ": " + value }
	as := ""
	if a.As != "" {
		as = field("as", a.As)
	}
	switch a.Kind {
	case Crash:
		if a.RestartAfter == nil && as == "" {
			return "crash: " + selector(a.Nodes)
		}
		s := "crash:" + field("nodes", selector(a.Nodes))
		if a.RestartAfter != nil {
			s += field("restart_after", strconv.Quote(writtenDist(*a.RestartAfter)))
		}
		return s + as
	case Restart, Isolate:
		if as == "" {
			return a.Kind.String() + ": " + selector(a.Nodes)
		}
		return a.Kind.String() + ":" + field("nodes", selector(a.Nodes)) + as
	case Partition:
		var groups []string
		for _, g := range a.Groups {
			groups = append(groups, selector(g))
		}
		return "partition: [" + strings.Join(groups, ", ") + "]"
	case Heal:
		switch {
		case a.Nodes.Text != "":
			return "heal: " + selector(a.Nodes)
		case a.From.Text != "":
			return "heal:" + field("from", selector(a.From)) + field("to", selector(a.To)) + field("both", strconv.FormatBool(a.Both))
		}
		return "heal: true"
	case Cut:
		return "cut:" + field("from", selector(a.From)) + field("to", selector(a.To))
	case Pause:
		return "pause:" + field("nodes", selector(a.Nodes)) + field("for", strconv.Quote(writtenDist(a.For))) + as
	case Drift:
		return "drift:" + field("nodes", selector(a.Nodes)) + field("factor", float(a.Factor)) + as
	case SetLoss:
		return "loss: " + float(a.Loss)
	case Write:
		s := "write:" + field("entries", strconv.Itoa(a.Entries))
		if a.Reach >= 0 {
			s += field("reach", strconv.Itoa(a.Reach))
		}
		return s
	case Check:
		c := a.Assert
		s := "check:"
		switch c.Leader {
		case CheckLeaderOne:
			s += field("leader", "one")
		case CheckLeaderNone:
			s += field("leader", "none")
		case CheckLeaderIs:
			s += field("leader", selector(c.Is))
		}
		if c.Not != nil {
			s += field("leader_not", selector(*c.Not))
		}
		if c.Agree {
			s += field("agree", "true")
		}
		if c.TermSince > 0 {
			s += field("term_since", strconv.Itoa(c.TermSince))
		}
		s += field("among", selector(c.Among))
		if c.Within > 0 {
			s += field("within", FormatDuration(c.Within))
		}
		return s
	}
	panic(fmt.Sprintf("scenarios: unknown action %d", a.Kind))
}

// selector writes a node selector: a quoted name or a list of names.
func selector(s Selector) string {
	switch s.Kind {
	case Named:
		names := make([]string, len(s.IDs))
		for i, id := range s.IDs {
			names[i] = NodeName(id)
		}
		return "[" + strings.Join(names, ", ") + "]"
	case Union:
		items := make([]string, len(s.Items))
		for i, item := range s.Items {
			items[i] = strconv.Quote(item.Text) // one node or one word each
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return strconv.Quote(s.Text)
}

func float(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func joinUints(xs []uint64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(parts, ", ")
}

// writtenDist is [FormatDist] for a scenario file, which may be written
// anywhere: data files by their absolute paths.
func writtenDist(d sim.Dist) string { return formatDist(d, absolutePath) }
