package samples

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// Writer writes rows of trials.
type Writer struct {
	cw      *csv.Writer
	columns int
}

// NewWriter returns a writer of rows with the given condition columns (as
// [Conditions] returns them), and writes the header: those columns, then
// trial and time_to_leader_ms.
func NewWriter(w io.Writer, columns []string) *Writer {
	cw := csv.NewWriter(w)
	cw.Write(append(append([]string{}, columns...), TrialIndex, TimeToLeader))
	return &Writer{cw: cw, columns: len(columns)}
}

// Write writes one row per trial of ts whose measurement began, in trial
// order, under the condition values texts.
func (w *Writer) Write(texts []string, ts Trials) error {
	if len(texts) != w.columns {
		return fmt.Errorf("samples: %d values for %d columns", len(texts), w.columns)
	}
	row := append([]string{}, texts...)
	row = append(row, "", "")
	for i, o := range ts {
		if !o.Started {
			continue
		}
		row[w.columns] = strconv.Itoa(i)
		row[w.columns+1] = ""
		if o.Leader {
			row[w.columns+1] = formatMs(o.Time)
		}
		if err := w.cw.Write(row); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}
