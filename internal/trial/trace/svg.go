package trace

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// Swimlane geometry, in SVG user units (pixels).
const (
	laneHeight = 44
	laneGap    = 10
	marginLeft = 56
	marginTop  = 54
	plotWidth  = 1400
)

var stateColors = [...]string{Follower: "#dcdcdc", PreCandidate: "#ffe08a", Candidate: "#f6a96b", Leader: "#8fce7a", Down: "#3a3a3a"}

var msgColors = map[raft.MsgType]string{ // looked up, never ranged over
	raft.MsgVote: "#1f5fbf", raft.MsgVoteResp: "#6ea0e6", raft.MsgPreVote: "#8a4fbf", raft.MsgPreVoteResp: "#b99ae0",
	raft.MsgApp: "#5f8f5f", raft.MsgAppResp: "#a3bfa3",
	raft.MsgHeartbeat: "#5f8f5f", raft.MsgHeartbeatResp: "#a3bfa3", // etcd's heartbeats, drawn as AppendEntries
}

// WriteSVG draws the events as swimlanes: one lane per node, its states as
// coloured bars labelled with their terms, messages as arrows from sender to
// receiver (dashed red when dropped), pauses hatched, faults as red lines
// across every lane, and violations in bold. A large cluster or a long
// trial is drawn within [MaxLanes] and [MaxFlows], as [Filter.Picture]
// says.
func WriteSVG(w io.Writer, events []Event, nodes int, title string) error {
	return (&Filter{}).Picture(events, nodes).WriteSVG(w, title)
}

// WriteSVG draws p as swimlanes, as the package's WriteSVG describes,
// with a note under the title when nodes or messages were left out.
func (p *Picture) WriteSVG(w io.Writer, title string) error {
	span := p.laneSpan()
	lanes := p.Lanes
	if lanes == nil {
		for n := range p.Nodes {
			lanes = append(lanes, n)
		}
	}
	lane := make([]int, p.Nodes) // each node's lane, or -1
	for n := range lane {
		lane[n] = -1
	}
	for i, n := range lanes {
		lane[n] = i
	}
	top := float64(marginTop)
	var notes []string
	if p.HiddenNodes > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d nodes drawn: those that stood for election or led, then the lowest-numbered (replay --node picks others)",
			len(lanes), len(lanes)+p.HiddenNodes))
	}
	if p.HiddenFlows > 0 {
		notes = append(notes, fmt.Sprintf("the first %d messages drawn, %d more left out (replay --from/--to narrows the window)", len(p.Flows), p.HiddenFlows))
	}
	top += float64(14 * len(notes))
	x := func(t time.Duration) float64 {
		return marginLeft + plotWidth*float64(t-p.Start)/float64(span)
	}
	laneY := func(n int) float64 { return top + float64(lane[n])*(laneHeight+laneGap) }
	mid := func(n int) float64 { return laneY(n) + laneHeight/2 }
	width := float64(marginLeft + plotWidth + 30)
	height := top + float64(len(lanes))*(laneHeight+laneGap) + 50

	bw := bufio.NewWriter(w)
	f := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	f(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	f(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker>`)
	f(`<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#2b6cb0" stroke-width="2"/></pattern>`)
	f(`<clipPath id="window"><rect x="%d" y="0" width="%d" height="%.0f"/></clipPath></defs>`+"\n", marginLeft, plotWidth, height)
	f(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	f(`<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", marginLeft, html.EscapeString(title))
	for i, note := range notes {
		f(`<text x="%d" y="%d" fill="#555">%s</text>`+"\n", marginLeft, 38+14*i, html.EscapeString(note))
	}
	legendX := marginLeft + 420.0
	for i, st := range []State{Follower, PreCandidate, Candidate, Leader, Down} {
		lx := legendX + float64(i)*110
		f(`<rect x="%.1f" y="10" width="14" height="12" fill="%s"/><text x="%.1f" y="20">%s</text>`+"\n", lx, stateColors[st], lx+18, st)
	}
	f(`<rect x="%.1f" y="10" width="14" height="12" fill="url(#hatch)"/><text x="%.1f" y="20">paused</text>`+"\n", legendX+550, legendX+568)

	for _, n := range lanes {
		f(`<text x="8" y="%.1f" font-size="13" font-weight="bold">%s</text>`+"\n", mid(n)+4, raft.ID(n))
		f(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="#f7f7f7"/>`+"\n", marginLeft, laneY(n), plotWidth, laneHeight)
	}
	for _, s := range p.Spans {
		x0, x1 := x(s.Start), x(s.End)
		f(`<rect x="%.2f" y="%.1f" width="%.2f" height="%d" fill="%s"><title>%s %s term %d: %s-%s</title></rect>`+"\n",
			x0, laneY(s.Node), math.Max(x1-x0, 0.5), laneHeight, stateColors[s.State], raft.ID(s.Node), s.State, s.Term,
			FormatTime(s.Start), FormatTime(s.End))
		if s.State != Down && x1-x0 > 26 {
			f(`<text x="%.1f" y="%.1f" fill="#222">t%d</text>`+"\n", x0+3, laneY(s.Node)+13, s.Term)
		}
	}
	for _, ps := range p.Pauses {
		f(`<rect x="%.2f" y="%.1f" width="%.2f" height="%d" fill="url(#hatch)" opacity="0.6"><title>%s paused</title></rect>`+"\n",
			x(ps.Start), laneY(ps.Node), math.Max(x(ps.End)-x(ps.Start), 0.5), laneHeight, raft.ID(ps.Node))
	}
	f(`<g clip-path="url(#window)">` + "\n") // messages in flight at the window's edges
	for _, fl := range p.Flows {
		color, dash := msgColors[fl.Msg.Type], ""
		if !fl.Delivered {
			color, dash = "#d62728", ` stroke-dasharray="4 3"`
		}
		f(`<line x1="%.2f" y1="%.1f" x2="%.2f" y2="%.1f" stroke="%s" stroke-width="1"%s marker-end="url(#arrow)"><title>%s %s&#8594;%s %s</title></line>`+"\n",
			x(fl.Sent), mid(fl.From), x(fl.Arrive), mid(fl.To), color, dash, FormatTime(fl.Sent),
			raft.ID(fl.From), raft.ID(fl.To), html.EscapeString(fl.Msg.String()))
	}
	f("</g>\n")
	for _, e := range p.SendDrops {
		cx, cy := x(e.At), mid(e.Peer)
		f(`<path d="M %.1f %.1f l 6 6 m -6 0 l 6 -6" stroke="#d62728" stroke-width="1.5" transform="translate(-3 -3)"><title>%s</title></path>`+"\n",
			cx, cy, html.EscapeString(e.Line()))
	}
	bottom := top + float64(len(lanes))*(laneHeight+laneGap) - laneGap
	for _, e := range p.Faults {
		fx := x(e.At)
		stroke, width := "#d62728", "1.2"
		if e.Kind == EvViolation {
			stroke, width = "#b00000", "3"
		}
		f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.1f" stroke="%s" stroke-width="%s" stroke-dasharray="6 3"><title>%s</title></line>`+"\n",
			fx, top-10, fx, bottom, stroke, width, html.EscapeString(e.Line()))
		f(`<text x="%.2f" y="%.0f" fill="%s" font-size="10">%s</text>`+"\n", fx+2, top-12, stroke, html.EscapeString(e.Text))
	}
	// The time axis.
	step := niceStep(span)
	for t := (p.Start + step - 1) / step * step; t <= p.End; t += step {
		tx := x(t)
		f(`<line x1="%.2f" y1="%.1f" x2="%.2f" y2="%.1f" stroke="#888"/><text x="%.2f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			tx, bottom+2, tx, bottom+7, tx, bottom+20, strconv.FormatFloat(float64(t)/1e6, 'f', -1, 64)+"ms")
	}
	f(`<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">virtual time</text>`+"\n", float64(marginLeft+plotWidth), bottom+36)
	f("</svg>\n")
	return bw.Flush()
}

// laneSpan is the time the swimlanes' width stands for: the picture's,
// and at least a millisecond.
func (p *Picture) laneSpan() time.Duration {
	if span := p.End - p.Start; span > 0 {
		return span
	}
	return time.Millisecond
}

// niceStep returns a tick interval of 1, 2 or 5 times a power of ten that
// puts about ten ticks across span.
func niceStep(span time.Duration) time.Duration {
	raw := float64(span) / 10
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return time.Duration(m * pow)
		}
	}
	return time.Duration(10 * pow)
}
