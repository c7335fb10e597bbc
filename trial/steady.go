package trial

// Steady-state runs measure stability: from the first leader on, a healthy
// cluster runs for the plan's steady time under the scenario's network and
// background faults, and every election it holds is a needless one.

// steadyLeader notes a leader elected in a steady-state run: the first one
// starts the measurement, every later one is a leader change.
func (r *Runner) steadyLeader() {
	if r.steadyStart < 0 {
		r.steadyStart = r.s.Now()
		r.s.At(r.s.Now()+r.plan.steady, callEnd)
		return
	}
	r.res.LeaderChanges++
}

// watchSteady keeps the account of time without a working leader.
func (r *Runner) watchSteady() {
	if r.topoDirty {
		r.topoDirty = false
		r.majority = r.majorityConnected()
	}
	working := r.workingLeader()
	switch {
	case working && r.leaderlessAt >= 0:
		r.res.Leaderless += r.s.Now() - r.leaderlessAt
		r.leaderlessAt = -1
	case !working && r.leaderlessAt < 0:
		r.leaderlessAt = r.s.Now()
	}
}

func (r *Runner) finishSteady() {
	if r.steadyStart < 0 {
		return // no leader was ever elected: nothing was measured
	}
	if r.leaderlessAt >= 0 {
		r.res.Leaderless += r.s.Now() - r.leaderlessAt
	}
	r.res.SteadyTime = r.s.Now() - r.steadyStart
}
