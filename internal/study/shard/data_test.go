package shard

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestData checks the data files a partial carries: kept sorted and each
// once, written and read back, required alike of every shard, and
// checked against what a merge read.
func TestData(t *testing.T) {
	a, b := DataFile{"fsync.csv", strings.Repeat("a", 64)}, DataFile{"rtt.csv", strings.Repeat("b", 64)}
	p := &Partial{Format: FormatVersion, Version: "v1", Command: "run", Shard: Spec{K: 1, N: 2}}
	p.AddData(b, a)
	p.AddData(a)
	if want := []DataFile{a, b}; !slices.Equal(p.Data, want) {
		t.Fatalf("Data: got %v, want %v", p.Data, want)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := Read(&buf)
	if err != nil || !slices.Equal(read.Data, p.Data) {
		t.Fatalf("read back: %v, %v", read, err)
	}
	unsorted := *p
	unsorted.Data = []DataFile{b, a}
	buf.Reset()
	unsorted.Write(&buf)
	if _, err := Read(&buf); err == nil || err.Error() != "data files out of order" {
		t.Errorf("unsorted data files: got %v", err)
	}

	m := NewMerged("v1")
	if err := m.Add("part-1.json", p); err != nil {
		t.Fatal(err)
	}
	other := *p
	other.Shard = Spec{K: 2, N: 2}
	other.Data = []DataFile{a, {"rtt.csv", strings.Repeat("c", 64)}}
	if err := m.Add("part-2.json", &other); err == nil || !strings.Contains(err.Error(), "their trials read different data files (fsync.csv sha256:aaaaaaaaaaaa, rtt.csv sha256:bbbbbbbbbbbb and") {
		t.Errorf("shards that read different data: got %v", err)
	}
	if err := m.CheckData([]DataFile{b}); err != nil {
		t.Errorf("CheckData of a file the shards read: %v", err)
	}
	if err := m.CheckData([]DataFile{{"rtt.csv", strings.Repeat("c", 64)}}); err == nil ||
		err.Error() != "rtt.csv has changed since the shards read it (sha256:cccccccccccc now, sha256:bbbbbbbbbbbb then): merge with the data files the shards read" {
		t.Errorf("CheckData of a changed file: got %v", err)
	}
	if err := m.CheckData([]DataFile{{"new.csv", strings.Repeat("d", 64)}}); err == nil || err.Error() != "the shards read no data file new.csv" {
		t.Errorf("CheckData of a file the shards did not read: got %v", err)
	}
}
