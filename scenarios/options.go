package scenarios

import "github.com/raftsim/raftsim/raft"

// ProtocolOption is one protocol option of [raft.Options], with every name
// people see it by. Flags, scenario files, replay commands, sweeps and
// reports all read the options from [ProtocolOptions].
type ProtocolOption struct {
	Flag string // the command-line flag, without --, and the name a sweep's --options set gives it
	Key  string // the key under cluster.options in a scenario file
	Help string // one line for --help and the format reference
	// Field returns the option's switch in o.
	Field func(o *raft.Options) *bool
}

// ProtocolOptions lists the protocol options in the order flags, files,
// replay commands and reports show them.
var ProtocolOptions = []ProtocolOption{
	{"prevote", "prevote", "run a Pre-Vote round before each election (thesis §9.6)",
		func(o *raft.Options) *bool { return &o.PreVote }},
	{"check-quorum", "check_quorum", "a leader that has not heard from a majority for an election timeout steps down",
		func(o *raft.Options) *bool { return &o.CheckQuorum }},
	{"leader-stickiness", "leader_stickiness", "ignore vote requests within the minimum election timeout of hearing from a leader",
		func(o *raft.Options) *bool { return &o.LeaderStickiness }},
	{"reset-timer-on-step-down", "reset_timer_on_step_down", "reset the election timer when adopting a higher term (etcd's behaviour)",
		func(o *raft.Options) *bool { return &o.ResetTimerOnStepDown }},
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
