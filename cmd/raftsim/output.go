package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// writeOutput writes what render produces to path, or to out when path is
// empty. A file is written whole or not at all: render fills a buffer, the
// buffer goes to a temporary file beside path, and the file is renamed into
// place, so an interrupted or failed run leaves no partial file.
func writeOutput(path string, out io.Writer, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if path == "" {
		_, err := out.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic replaces path with data, all at once.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return badUsage("--out: %v", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this does nothing
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// checkOutPath refuses an --out path whose directory does not exist before
// any work is done.
func checkOutPath(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return badUsage("--out %s: the directory %s does not exist", path, filepath.Dir(path))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return badUsage("--out %s: is a directory", path)
	}
	return nil
}

// progress shows a progress bar on stderr when stderr is a terminal and
// does nothing otherwise.
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(errw io.Writer, total int, what string) *progress {
	if total <= 0 || !isTerminal(errw) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(errw),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	)}
}

// set reports that done of total units are finished; safe from any goroutine.
func (p *progress) set(done int) {
	if p.bar != nil {
		p.bar.Set(done)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
