package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/raftsim/raftsim/internal/node/disk"
	"github.com/raftsim/raftsim/internal/study/report"
	"github.com/raftsim/raftsim/internal/study/samples"
	"github.com/raftsim/raftsim/internal/trial"
	"github.com/raftsim/raftsim/scenarios"
)

// outputFile is a file a command writes, named by the flag that gave its
// path (--out, --plot, --svg, ...). Its path is checked before any work is
// done ([checkOutputs]) and written at the end ([outputFile.write]):
//
//   - "-" and /dev/stdout mean the command's standard output;
//   - a device, a FIFO or a socket is written in place;
//   - a symlink is followed, and what it points to is written;
//   - a regular file (or a new one) is replaced whole or not at all: the
//     bytes go to a temporary file beside it, which is synced and renamed
//     over it, keeping the old file's mode;
//   - anything else (a directory) is refused, and never replaced.
type outputFile struct {
	flag string // --out
	path string // "" for none
}

// toStdout reports whether f goes to the command's standard output.
func (f outputFile) toStdout() bool { return f.path == "-" || f.path == "/dev/stdout" }

// checkOutputs checks, before any work is done, that every file can be
// written, and that at most one of them goes to standard output.
func checkOutputs(files ...outputFile) error {
	var stdout *outputFile
	for i := range files {
		f := &files[i]
		if !f.toStdout() {
			if err := f.check(); err != nil {
				return err
			}
			continue
		}
		if stdout != nil {
			return badUsage("%s %s and %s %s both go to standard output: send one to a file", stdout.flag, stdout.path, f.flag, f.path)
		}
		stdout = f
	}
	return nil
}

// check makes sure f can be written: its directory exists and takes a new
// file, or the device or FIFO it names opens for writing.
func (f outputFile) check() error {
	if f.path == "" || f.toStdout() {
		return nil
	}
	path, inPlace, err := f.target()
	if err != nil {
		return err
	}
	if inPlace {
		if st, err := os.Stat(path); err == nil && st.Mode()&fs.ModeNamedPipe != 0 {
			return nil // opening a FIFO waits for its reader: only the write does
		}
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return f.fail(err)
		}
		return w.Close()
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return badUsage("%s %s: the directory %s does not exist", f.flag, f.path, dir)
	}
	probe, err := os.CreateTemp(dir, ".raftsim-probe-*")
	if err != nil {
		return badUsage("%s %s: cannot create a file in %s: %v", f.flag, f.path, dir, reason(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// target returns where f's bytes go, symlinks followed, and whether they
// are written in place (a device, FIFO or socket) rather than replacing a
// regular file or creating a new one.
func (f outputFile) target() (path string, inPlace bool, err error) {
	st, err := os.Stat(f.path)
	switch {
	case err == nil && st.IsDir():
		return "", false, badUsage("%s %s: is a directory", f.flag, f.path)
	case err == nil && !st.Mode().IsRegular():
		return f.path, true, nil // opening the path itself follows any symlinks
	case err == nil:
		path, err := filepath.EvalSymlinks(f.path)
		if err != nil {
			return "", false, f.fail(err)
		}
		return path, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, f.fail(err)
	}
	// A new file, or the missing target of a dangling symlink.
	path = f.path
	for range maxLinks {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, false, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", false, f.fail(err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", false, badUsage("%s %s: too many levels of symbolic links", f.flag, f.path)
}

// maxLinks bounds the symlinks followed to a file, as the kernel does.
const maxLinks = 40

// write writes what render produces to f, or to out when f goes to
// standard output.
func (f outputFile) write(out io.Writer, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if f.toStdout() {
		_, err := out.Write(buf.Bytes())
		return err
	}
	path, inPlace, err := f.target()
	if err != nil {
		return err
	}
	if inPlace {
		err = writeInPlace(path, buf.Bytes())
	} else {
		err = disk.WriteFile(path, buf.Bytes())
	}
	if err != nil {
		return f.fail(err)
	}
	return nil
}

// fail names f's flag and path in an error about writing it.
func (f outputFile) fail(err error) error {
	return fmt.Errorf("%s %s: %v", f.flag, f.path, reason(err))
}

// reason strips the path from err, which may name a temporary file the
// user never asked for.
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// writeInPlace writes data to the device, FIFO or socket at path.
func writeInPlace(path string, data []byte) error {
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// samplesFlag registers --samples on fs.
func samplesFlag(fs *pflag.FlagSet) *string {
	return fs.String("samples", "", "also write every trial's time to leader to this CSV file, one row per trial: the format raftsim fit reads")
}

// trialSamples are --samples of one scenario's trials (run, live): each
// trial's outcome is recorded as it ends, and all are written at the end.
type trialSamples struct {
	file   outputFile
	trials samples.Trials
}

// newTrialSamples prepares --samples for n trials; with no file asked
// for, it records nothing.
func newTrialSamples(file outputFile, n int) *trialSamples {
	ts := &trialSamples{file: file}
	if file.path != "" {
		ts.trials = make(samples.Trials, n)
	}
	return ts
}

// record is a runner.Options.Trial (or live.Options.Trial) function, nil
// when no file is asked for.
func (ts *trialSamples) record() func(int, *trial.Result) {
	if ts.file.path == "" {
		return nil
	}
	return ts.trials.Record
}

// write writes the first done trials of s, if a file is asked for.
func (ts *trialSamples) write(out io.Writer, s *scenarios.Scenario, done int) error {
	if ts.file.path == "" {
		return nil
	}
	columns, texts := samples.Columns(s, nil, nil)
	return writeSamples(ts.file, out, columns, [][]string{texts}, []samples.Trials{ts.trials[:done]})
}

// writeSamples writes the rows of trials to f, whole or not at all: a
// header of columns, then for each set of trials, in order, its rows under
// its condition values.
func writeSamples(f outputFile, out io.Writer, columns []string, texts [][]string, trials []samples.Trials) error {
	return f.write(out, func(w io.Writer) error {
		sw := samples.NewWriter(w, columns)
		for i := range trials {
			if err := sw.Write(texts[i], trials[i]); err != nil {
				return err
			}
		}
		return sw.Flush()
	})
}

// writePlots draws a plot to each of paths (--plot, checked already), in
// the format its extension asks for, each file whole or not at all.
func writePlots(paths []string, out io.Writer, draw func(format string) ([]byte, error)) error {
	for _, p := range paths {
		pf, err := report.PlotFormat(p)
		if err != nil {
			return badUsage("--plot: %v", err)
		}
		if err := (outputFile{"--plot", p}).write(out, func(w io.Writer) error {
			img, err := draw(pf)
			if err != nil {
				return err
			}
			_, err = w.Write(img)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
