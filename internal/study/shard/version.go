package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// Version identifies this build of raftsim: the module version the Go
// tool stamped into the binary (a release such as v1.2.0, or a
// pseudo-version naming the commit). A build whose version does not pin
// its code, "(devel)" or one with uncommitted changes ("+dirty"), gets the
// first 12 hex digits of its executable's SHA-256 appended, so that two
// such builds never pass for each other.
func Version() string { return version() }

var version = sync.OnceValue(func() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	if v != "(devel)" && !strings.HasSuffix(v, "+dirty") {
		return v
	}
	return v + " sha256:" + executableHash()
})

// executableHash returns the start of the running executable's SHA-256,
// or "unknown" when it cannot be read.
func executableHash() string {
	path, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
