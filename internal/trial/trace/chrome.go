package trace

import (
	"encoding/json"
	"io"
	"time"
)

// chromeEvent is one record of the Chrome / Perfetto trace-event format
// (the JSON object format; times in microseconds).
type chromeEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  *float64       `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	ID   int            `json:"id,omitempty"`
	Bp   string         `json:"bp,omitempty"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

func us(t time.Duration) float64 { return float64(t) / 1e3 }

// WriteChrome writes the events as a Chrome trace, which chrome://tracing
// and ui.perfetto.dev open: one track per node, follower, candidate and
// leader periods (and crashes) as slices, each delivered message as a flow
// arrow from sender to receiver, faults and violations as instant events.
func WriteChrome(w io.Writer, events []Event, nodes int, title string) error {
	p := Analyse(events, nodes)
	out := []chromeEvent{{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]any{"name": title}}}
	out = append(out, chromeEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: 0, Args: map[string]any{"name": "cluster"}})
	for n := 0; n < nodes; n++ {
		out = append(out,
			chromeEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: n + 1, Args: map[string]any{"name": nodeName(n)}},
			chromeEvent{Name: "thread_sort_index", Ph: "M", Pid: 1, Tid: n + 1, Args: map[string]any{"sort_index": n + 1}})
	}
	for _, s := range p.Spans {
		d := us(s.End - s.Start)
		name := s.State.String()
		if s.State != Down {
			name += " term " + itoa(int(s.Term))
		}
		out = append(out, chromeEvent{Name: name, Cat: "state", Ph: "X", Ts: us(s.Start), Dur: &d, Pid: 1, Tid: s.Node + 1,
			Args: map[string]any{"state": s.State.String(), "term": s.Term}})
	}
	for _, ps := range p.Pauses {
		d := us(ps.End - ps.Start)
		out = append(out, chromeEvent{Name: "paused", Cat: "fault", Ph: "X", Ts: us(ps.Start), Dur: &d, Pid: 1, Tid: ps.Node + 1})
	}
	for _, f := range p.Flows {
		if !f.Delivered {
			continue
		}
		name := f.Msg.Type.String()
		args := map[string]any{"message": f.Msg.String()}
		out = append(out,
			chromeEvent{Name: name, Cat: "message", Ph: "s", Ts: us(f.Sent), Pid: 1, Tid: f.From + 1, ID: f.ID, Args: args},
			chromeEvent{Name: name, Cat: "message", Ph: "f", Bp: "e", Ts: us(f.Arrive), Pid: 1, Tid: f.To + 1, ID: f.ID, Args: args})
	}
	for _, e := range events {
		switch e.Kind {
		case EvFault, EvViolation, EvDown, EvDrop, EvTimeout:
		default:
			continue
		}
		ev := chromeEvent{Name: e.Kind.String(), Cat: e.Kind.String(), Ph: "i", Ts: us(e.At), Pid: 1, S: "t",
			Args: map[string]any{"line": e.Line()}}
		switch {
		case e.Node < 0:
			ev.Name, ev.S = e.Text, "g"
		case e.Kind == EvTimeout:
			ev.Name = e.Timer.String() + " timeout"
			ev.Tid = e.Node + 1
		case e.Kind == EvDrop:
			ev.Name = "drop " + e.Msg.Type.String() + " (" + e.Reason + ")"
			ev.Tid = e.Node + 1
		default:
			ev.Tid = e.Node + 1
		}
		out = append(out, ev)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(struct {
		TraceEvents     []chromeEvent `json:"traceEvents"`
		DisplayTimeUnit string        `json:"displayTimeUnit"`
	}{out, "ms"})
}
