package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// WriteFile replaces the regular file at path (or creates it) with data,
// whole or not at all: the data go to a temporary file beside it, which
// gets the old file's mode (a new file: 0666 less the umask), is synced,
// and is renamed over path; then the directory is synced, so that a crash
// leaves the old file or the new one, never a part. On an error path is as
// it was. The node's log compaction and every output file raftsim writes
// go through it.
func WriteFile(path string, data []byte) error {
	tmp, err := newTemp(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename this does nothing
	if st, err := os.Stat(path); err == nil {
		if err := tmp.Chmod(st.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// ErrOtherContents says CreateFile found a file of that name holding
// something else, which it does not replace.
var ErrOtherContents = errors.New("a file of that name with other contents is there, and raftsim does not replace it")

// CreateFile creates the file at path holding data, whole or not at all,
// and never over another file: one already holding the same bytes is taken
// as written (ErrOtherContents otherwise). The data go to a temporary file
// beside it, synced, then linked to path, which fails and replaces nothing
// when path exists; then the directory is synced.
func CreateFile(path string, data []byte) error {
	tmp, err := newTemp(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		if had, rerr := os.ReadFile(path); rerr == nil && bytes.Equal(had, data) {
			return nil
		}
		return ErrOtherContents
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// CreateDir creates the directory dir holding files (by path, each inside
// dir), whole or not at all: the files go, each written by WriteFile, into
// a temporary directory beside dir, which is renamed to dir, then the
// parent directory is synced. The rename fails and replaces nothing when
// dir exists and is not empty.
func CreateDir(dir string, files map[string][]byte) error {
	parent := filepath.Dir(filepath.Clean(dir))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	for path, data := range files {
		rel, err := filepath.Rel(dir, path)
		if err == nil && (rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
			err = fmt.Errorf("%s is not inside %s", path, dir)
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(tmp, rel)), 0o777)
		}
		if err == nil {
			err = WriteFile(filepath.Join(tmp, rel), data)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return syncDir(parent)
}

// writeSynced writes data to tmp, syncs and closes it; the first error
// wins, and tmp is closed either way.
func writeSynced(tmp tempFile, data []byte) error {
	_, err := tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempFile is what WriteFile writes through: an *os.File, or a test's
// file that fails on demand.
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
	Chmod(fs.FileMode) error
}

// newTemp creates the empty temporary file beside path that WriteFile
// writes; tests replace it to make writes and syncs fail.
var newTemp = func(path string) (tempFile, error) { return createBeside(path) }

// createBeside creates a new, empty temporary file in path's directory,
// with the permissions a new file gets (0666 less the umask).
func createBeside(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for i := 0; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf(".%s.%d-%d.tmp", base, os.Getpid(), i))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || i == 1000 {
			return f, err
		}
	}
}

// syncDir makes the entries of dir durable: a file created or renamed in
// it. A file system that cannot sync a directory (EINVAL, or unsupported)
// is not an error: the rename is done either way.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
