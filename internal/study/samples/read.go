package samples

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/scenarios"
)

// Group is the rows of one set of conditions.
type Group struct {
	// Conditions are the group's condition columns that have a value, in
	// the file's column order, with their values in canonical form.
	Conditions Conditions
	Times      []time.Duration // of the trials that found a leader, in file order
	NoLeader   int             // rows without a leader
	Line       int             // the group's first row
}

// Condition is one condition of a group: a scenario flag and its value.
type Condition struct {
	Flag, Text string
}

// Conditions are a group's conditions.
type Conditions []Condition

// Rows returns the number of rows in g.
func (g *Group) Rows() int { return len(g.Times) + g.NoLeader }

// Text returns the value of flag, or "" when the conditions leave it as
// the scenario has it.
func (cs Conditions) Text(flag string) string {
	for _, c := range cs {
		if c.Flag == flag {
			return c.Text
		}
	}
	return ""
}

// Label names a group by its conditions: "150ms-300ms" when the election
// timeout is its only one, else each condition's column and value.
func (cs Conditions) Label() string {
	if len(cs) == 1 {
		return cs[0].Text
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = Column(c.Flag) + " " + c.Text
	}
	return strings.Join(parts, ", ")
}

// Error is a problem in a file of samples, at a line and column.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg) }

// Read reads the rows of file (named in errors) from r and returns their
// groups in the order their first rows appear. Errors name the file, line
// and column.
func Read(file string, r io.Reader) ([]Group, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.ReuseRecord = true
	fail := func(line, col int, format string, args ...any) error {
		return &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	read := func() ([]string, error) {
		rec, err := cr.Read()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fail(pe.Line, pe.Column, "%v", pe.Err)
		}
		return rec, err
	}
	header, err := read()
	if err == io.EOF {
		return nil, fail(1, 1, "empty file: want a header with the columns %s and %s", ElectionTimeout, TimeToLeader)
	}
	if err != nil {
		return nil, err
	}
	header = slices.Clone(header)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	cond := map[int]string{} // column index → flag
	timeCol, etCol, trialCol := -1, -1, -1
	for i, name := range header {
		line, col := cr.FieldPos(i)
		if slices.Index(header, name) < i {
			return nil, fail(line, col, "column %q appears twice", name)
		}
		switch {
		case name == TimeToLeader:
			timeCol = i
		case name == TrialIndex:
			trialCol = i
		case slices.Contains(conditions, name):
			cond[i] = flag(name)
			if name == ElectionTimeout {
				etCol = i
			}
		default:
			return nil, fail(line, col, "unknown column %q: want %s, %s, and optionally nodes, heartbeat, loss, %s (the rows of one file must share their network)",
				name, ElectionTimeout, TimeToLeader, TrialIndex)
		}
	}
	for _, need := range []struct {
		col  int
		name string
	}{{etCol, ElectionTimeout}, {timeCol, TimeToLeader}} {
		if need.col < 0 {
			return nil, fail(1, 1, "no column %s (the header has %s)", need.name, strings.Join(header, ","))
		}
	}

	var groups []Group
	index := map[string]int{} // group key → index in groups; looked up only
	rows := 0
	for {
		rec, err := read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if rows++; rows > MaxRows {
			line, _ := cr.FieldPos(0)
			return nil, fail(line, 1, "more than %d rows", MaxRows)
		}
		var conds []Condition
		var o scenarios.Overrides
		for i, field := range rec {
			field = strings.TrimSpace(field)
			line, col := cr.FieldPos(i)
			switch {
			case i == timeCol:
			case i == trialCol:
				if field != "" {
					if n, err := strconv.Atoi(field); err != nil || n < 0 {
						return nil, fail(line, col, "%s: %q is not a trial index (a whole number from 0)", TrialIndex, field)
					}
				}
			case field == "" && i != etCol:
			default:
				if field == "" {
					return nil, fail(line, col, "%s: empty: every row needs an election timeout range, such as 150ms-300ms", ElectionTimeout)
				}
				if err := o.Set(cond[i], field); err != nil {
					return nil, fail(line, col, "%s: %v", header[i], err)
				}
				conds = append(conds, Condition{Flag: cond[i], Text: o.Text(cond[i])})
			}
		}
		key := fmt.Sprint(conds)
		g, ok := index[key]
		if !ok {
			line, _ := cr.FieldPos(0)
			g = len(groups)
			index[key] = g
			groups = append(groups, Group{Conditions: conds, Line: line})
		}
		field := strings.TrimSpace(rec[timeCol])
		if field == "" {
			groups[g].NoLeader++
			continue
		}
		ms, err := strconv.ParseFloat(field, 64)
		if err != nil || math.IsNaN(ms) || ms < 0 || ms > maxMs {
			line, col := cr.FieldPos(timeCol)
			return nil, fail(line, col, "%s: %q is not a time in ms from 0 to %g (empty: no leader)", TimeToLeader, field, maxMs)
		}
		groups[g].Times = append(groups[g].Times, time.Duration(math.Round(ms*1e6)))
	}
	if len(groups) == 0 {
		return nil, fail(1, 1, "no rows: want one row per trial under the header")
	}
	return groups, nil
}

// Join joins the groups read from several files into one list: groups of
// the same conditions become one (their rows in file order), and the rest
// keep the order they are first met in.
func Join(files ...[]Group) []Group {
	var out []Group
	for _, gs := range files {
		for _, g := range gs {
			k := slices.IndexFunc(out, func(o Group) bool { return o.Conditions.same(g.Conditions) })
			if k < 0 {
				g.Times = slices.Clone(g.Times)
				out = append(out, g)
				continue
			}
			out[k].Times = append(out[k].Times, g.Times...)
			out[k].NoLeader += g.NoLeader
		}
	}
	return out
}

// same reports whether cs and other set the same values, in any column
// order.
func (cs Conditions) same(other Conditions) bool {
	if len(cs) != len(other) {
		return false
	}
	for _, c := range cs {
		if !slices.Contains(other, c) {
			return false
		}
	}
	return true
}
