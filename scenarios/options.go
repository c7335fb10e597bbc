package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/raft"
)

// ProtocolOption is one protocol option of [raft.Options], with every name
// people see it by. Flags, scenario files, replay commands, sweeps and
// reports all read the options from [ProtocolOptions].
type ProtocolOption struct {
	Flag string // the command-line flag, without --, and the name a sweep's --options set gives it
	Key  string // the key under cluster.options in a scenario file
	Help string // one line for --help and the format reference
	// Field returns the option's switch in o.
	Field func(o *raft.Options) *bool
	// Apart says a sweep's --options sets leave the option as it is unless
	// they name it: it changes a behaviour rather than adding a mechanism.
	Apart bool
}

// ProtocolOptions lists the protocol options in the order flags, files,
// replay commands and reports show them.
var ProtocolOptions = []ProtocolOption{
	{"prevote", "prevote", "run a Pre-Vote round before each election (thesis §9.6)",
		func(o *raft.Options) *bool { return &o.PreVote }, false},
	{"check-quorum", "check_quorum", "a leader that has not heard from a majority for an election timeout steps down",
		func(o *raft.Options) *bool { return &o.CheckQuorum }, false},
	{"leader-stickiness", "leader_stickiness", "ignore vote requests within the minimum election timeout of hearing from a leader",
		func(o *raft.Options) *bool { return &o.LeaderStickiness }, false},
	{"reset-timer-on-step-down", "reset_timer_on_step_down", "reset the election timer when adopting a higher term (etcd's behaviour)",
		func(o *raft.Options) *bool { return &o.ResetTimerOnStepDown }, true},
	{"keep-timeout", "keep_timeout", "draw the election timeout only when the term or role changes, keeping it across heartbeats (etcd's behaviour)",
		func(o *raft.Options) *bool { return &o.KeepTimeout }, true},
}

// OptionFlags returns the flag names of the options o switches on, in
// [ProtocolOptions] order.
func OptionFlags(o raft.Options) []string {
	var names []string
	for _, opt := range ProtocolOptions {
		if *opt.Field(&o) {
			names = append(names, opt.Flag)
		}
	}
	return names
}

// ParseOptionSet reads a set of protocol options as a sweep's --options
// lists them: none, or flag names joined by '+' (prevote+check-quorum).
// It returns the value of each option the set decides, by flag name: true
// for those it names, false for the others but those kept [ProtocolOption.Apart].
func ParseOptionSet(text string) (map[string]bool, error) {
	named := map[string]bool{}
	if text != "none" {
		for _, name := range strings.Split(text, "+") {
			if !slices.ContainsFunc(ProtocolOptions, func(o ProtocolOption) bool { return o.Flag == name }) {
				var all []string
				for _, o := range ProtocolOptions {
					all = append(all, o.Flag)
				}
				return nil, fmt.Errorf("unknown option %q (want none, or %s joined by +)", name, strings.Join(all, ", "))
			}
			named[name] = true
		}
	}
	set := map[string]bool{}
	for _, o := range ProtocolOptions {
		if named[o.Flag] || !o.Apart {
			set[o.Flag] = named[o.Flag]
		}
	}
	return set, nil
}
