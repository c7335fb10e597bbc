package tune

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/study/metrics"
)

// testdata is where package metrics keeps captured and hand-made
// expositions.
const testdata = "../metrics/testdata"

// scrape reads one exposition file, taken at at.
func scrape(t *testing.T, name string, at time.Time) *metrics.Scrape {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := metrics.Read(f, name, at)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handmade returns the model of the hand-made cluster kind (steady or
// heavy-fsync-tail), each member scraped twice an hour apart, the second
// time with every count doubled... no: the same file at two times would
// show no fsyncs in between, so its process start says the window.
func handmade(t *testing.T, kind string) []Member {
	t.Helper()
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var scrapes []*metrics.Scrape
	for i := 1; i <= 3; i++ {
		scrapes = append(scrapes, scrape(t, filepath.Join("handmade", kind+"-n"+string(rune('0'+i))+".prom"), at))
	}
	ms, err := Members(scrapes)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestScenarioOfTheHeavyTail(t *testing.T) {
	ms := handmade(t, "heavy-fsync-tail")
	m, err := NewModel(ms, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Model: m, Size: 3, Dir: "tune"}
	files, notes := c.Files(Setting{100 * time.Millisecond, time.Second})
	t.Logf("%s\nnotes %q", files[c.Path()], notes)
	s, err := c.Scenario(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[c.Path()]), "impl: etcd") {
		t.Error("no impl")
	}
}
