package scenarios

import (
	"strconv"
	"strings"
)

// String says what the override changes, in the scenario format's text
// forms: "n1<->n2 loss 0.33", "n5->all latency exp:10ms,30ms".
func (l LinkOverride) String() string {
	arrow := "->"
	if l.Both {
		arrow = "<->"
	}
	parts := []string{l.From.String() + arrow + l.To.String()}
	if l.Latency != nil {
		parts = append(parts, "latency "+FormatDist(*l.Latency))
	}
	if l.Loss != nil {
		parts = append(parts, "loss "+strconv.FormatFloat(*l.Loss, 'g', -1, 64))
	}
	if l.Dup != nil {
		parts = append(parts, "duplicate "+strconv.FormatFloat(*l.Dup, 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}

// Flags returns the overrides that change what a trial is, one flag
// each as a command line writes it ("--nodes 3", "--prevote=true"):
// [Overrides.Args] grouped by flag.
func (o Overrides) Flags() []string {
	var out []string
	for _, st := range o.set {
		if words := st.args(true); words != nil {
			out = append(out, strings.Join(words, " "))
		}
	}
	return out
}
