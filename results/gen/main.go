// Command gen regenerates the reports in results/ from raftsim's own
// output. It builds raftsim, runs the commands each report's template names,
// and fills the template with their tables and numbers, so that no number in
// a report is ever typed by hand.
//
//	go run ./results/gen              every report
//	go run ./results/gen figure16     the reports named
//	go run ./results/gen -keep DIR live   keep each command's output in DIR, and
//	                                  reuse it on the next run: for rewording a
//	                                  report whose commands take long (live.md)
//
// Run it from the repository's root. gen must never write a number of its
// own: every figure comes from raftsim's output. Screenshots of raftsim's
// HTML pages need Debian's chromium package.
package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/raftsim/raftsim/internal/testkit/browser"
)

//go:embed templates/*.md.tmpl
var templates embed.FS

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(names []string) error {
	keep := ""
	if len(names) >= 2 && names[0] == "-keep" {
		keep, names = names[1], names[2:]
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return err
		}
	}
	if len(names) == 0 {
		entries, err := templates.ReadDir("templates")
		if err != nil {
			return err
		}
		for _, e := range entries {
			names = append(names, strings.TrimSuffix(e.Name(), ".md.tmpl"))
		}
	}
	dir, err := os.MkdirTemp("", "raftsim-gen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "raftsim")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/raftsim").CombinedOutput(); err != nil {
		return fmt.Errorf("building raftsim: %v\n%s", err, out)
	}
	g := &generator{bin: bin, cache: map[string]string{}, keep: keep}
	defer g.close()
	for _, name := range names {
		if err := g.report(name); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}

type generator struct {
	bin     string
	cache   map[string]string // command line → stdout; looked up only
	browser *browser.Browser  // started by the first screenshot
	keep    string            // a directory of outputs kept across runs, or ""
}

func (g *generator) close() {
	if g.browser != nil {
		g.browser.Close()
	}
}

// Screenshots show this much of a page: the ring, the node panel, the
// events and the top of the swimlanes.
const shotWidth, shotHeight = 1280, 1000

// screenshot loads page, a file with a fragment that names a moment
// (results/x.html#t=200ms), in headless Chromium and writes what it shows
// to png. It returns nothing to put in the report.
func (g *generator) screenshot(page, png string) (string, error) {
	if g.browser == nil {
		b, err := browser.Start(shotWidth, shotHeight)
		if err != nil {
			return "", err
		}
		g.browser = b
	}
	file, moment, _ := strings.Cut(page, "#")
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "gen: screenshot of %s\n", page)
	return "", g.browser.Screenshot("file://"+abs+"#"+moment, png)
}

func (g *generator) report(name string) error {
	src, err := templates.ReadFile("templates/" + name + ".md.tmpl")
	if err != nil {
		return err
	}
	t, err := template.New(name).Funcs(template.FuncMap{
		"raftsim":    g.output,
		"json":       g.json,
		"get":        get,
		"f0":         func(x any) string { return fixed(x, 0) },
		"f1":         func(x any) string { return fixed(x, 1) },
		"f2":         func(x any) string { return fixed(x, 2) },
		"f3":         func(x any) string { return fixed(x, 3) },
		"pct":        func(x any) string { return fixed(mul(x, 100), 1) + "%" },
		"pv":         pvalue,
		"ofHour":     func(ms any) string { return fixed(mul(ms, 100/3.6e6), 1) + "%" }, // ms per hour as a share of the hour
		"cell":       cell,
		"hide":       func(string) string { return "" }, // run a command for its files only
		"screenshot": g.screenshot,
		"timeOf":     timeOf,
		"list":       func(xs ...any) []any { return xs },
		"sub":        sub,
		"signed":     func(x any) string { return signed(fixed(x, 0)) },
		"etcd":       etcdVersion,
	}).Parse(string(src))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return err
	}
	out := filepath.Join("results", name+".md")
	fmt.Fprintf(os.Stderr, "gen: writing %s\n", out)
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// output runs raftsim with the words of args (split at spaces; quote a word
// with single quotes) and returns what it printed. Exit status 1 (a trial
// failed) is a result like any other; anything else is an error.
func (g *generator) output(args string) (string, error) {
	if out, ok := g.cache[args]; ok {
		return out, nil
	}
	kept := ""
	if g.keep != "" {
		sum := sha256.Sum256([]byte(args))
		kept = filepath.Join(g.keep, hex.EncodeToString(sum[:8])+".out")
		if data, err := os.ReadFile(kept); err == nil {
			fmt.Fprintf(os.Stderr, "gen: raftsim %s (kept in %s)\n", args, kept)
			g.cache[args] = string(data)
			return string(data), nil
		}
	}
	fmt.Fprintf(os.Stderr, "gen: raftsim %s\n", args)
	cmd := exec.Command(g.bin, splitWords(args)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			return "", fmt.Errorf("raftsim %s: %v\n%s", args, err, stderr.String())
		}
	}
	out := strings.TrimRight(stdout.String(), "\n")
	g.cache[args] = out
	if kept != "" {
		if err := os.WriteFile(kept, []byte(out), 0o644); err != nil {
			return "", err
		}
	}
	return out, nil
}

// json runs raftsim with args and --format json and decodes what it printed.
func (g *generator) json(args string) (any, error) {
	out, err := g.output(args + " --format json")
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal([]byte(out), &v)
}

func splitWords(s string) []string {
	var words []string
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			words = append(words, s[1:end+1])
			s = s[end+2:]
			continue
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
	return words
}

// timeOf returns the virtual time of the first trace line in output that
// contains text, as the trace prints it (1266.924ms), so that a report can
// name a moment of a trial without typing it.
func timeOf(output, text string) (string, error) {
	for _, line := range strings.Split(output, "\n") {
		if t, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(t, "t=") && strings.Contains(rest, text) {
			return strings.TrimPrefix(t, "t="), nil
		}
	}
	return "", fmt.Errorf("no trace line contains %q", text)
}

// get follows a dotted path (time_to_leader_ms.p50, cells.3.label) into
// decoded JSON.
func get(v any, path string) (any, error) {
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, fmt.Errorf("no key %q in %s", key, path)
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no element %q in %s", key, path)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%s: %q is not inside an object or list", path, key)
		}
	}
	return v, nil
}

// cell returns the value at path of the sweep cell whose label ends with
// label (so "150ms-155ms" finds "election-timeout 150ms-155ms").
func cell(sweep any, label, path string) (any, error) {
	cells, err := get(sweep, "cells")
	if err != nil {
		return nil, err
	}
	for _, c := range cells.([]any) {
		if l, _ := c.(map[string]any)["label"].(string); strings.HasSuffix(l, label) {
			return get(c, path)
		}
	}
	return nil, fmt.Errorf("no cell labelled %q", label)
}

func fixed(x any, decimals int) string {
	f, ok := x.(float64)
	if !ok {
		return "-" // null: no samples
	}
	return strconv.FormatFloat(f, 'f', decimals, 64)
}

// sub returns x − y, or nil (printed "-") when either has no value.
func sub(x, y any) any {
	a, ok1 := x.(float64)
	b, ok2 := y.(float64)
	if !ok1 || !ok2 {
		return nil
	}
	return a - b
}

// etcdVersion returns the version of the etcd on PATH, the one raftsim
// live --etcd runs, as it prints it ("3.4.23").
func etcdVersion() (string, error) {
	out, err := exec.Command("etcd", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("etcd --version: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "etcd Version: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("etcd --version printed no version: %q", out)
}

func mul(x any, k float64) any {
	if f, ok := x.(float64); ok {
		return f * k
	}
	return x
}

// pvalue prints a p-value as raftsim compare does: to three decimals, or
// below 0.001.
func pvalue(x any) string {
	if f, ok := x.(float64); ok && f < 0.001 {
		return "<0.001"
	}
	return fixed(x, 3)
}

// signed puts a plus sign before a number that has no minus sign: a
// difference either way.
func signed(text string) string {
	if strings.HasPrefix(text, "-") {
		return text
	}
	return "+" + text
}
