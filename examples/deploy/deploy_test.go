// The files of this directory are checked against the CLI: each engine's
// shard count and index variable agree with --shard, and its shard and
// merge commands, run as the engine runs them (with few trials), print what
// the unsharded command prints.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/internal/study/shard"
)

// deployDir is where the deployments' files are: here, beside this test.
var deployDir, _ = filepath.Abs(".")

// raftsimBin is the raftsim binary the tests run, built by TestMain.
var raftsimBin string

// TestMain builds raftsim once for the tests, as the engines would run it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "raftsim-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	raftsimBin = filepath.Join(dir, "raftsim")
	build := exec.Command("go", "build", "-o", raftsimBin, "../../cmd/raftsim")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ../../cmd/raftsim: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// raftsim runs the built binary in the current directory, with the
// process's environment, and returns its exit status and output.
func raftsim(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	cmd := exec.Command(raftsimBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errw
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return -1, out.String(), err.Error()
		}
		return exit.ExitCode(), out.String(), errw.String()
	}
	return 0, out.String(), errw.String()
}

// fewTrials make a deployment's sweep quick; every shard and the
// unsharded command get them. No more steady state than the minute each
// cell gets: cells that straddle --max-needless would otherwise run hours
// more in the unsharded command and again in the merge (what
// cmd/raftsim's TestSweepMoreSteadyStateMerges tests).
var fewTrials = []string{"--trials=20", "--steady-time=1m", "--max-steady-time=1m"}

// deployment is how an engine runs a command's shards and merges them.
type deployment struct {
	n int
	// shard returns shard k's arguments to raftsim, and the variables the
	// engine sets for it.
	shard func(k int) (args []string, env map[string]string)
	merge []string // the merge step's arguments to raftsim, globs not expanded
	// dir is where the engine's paths lead: its results directory ("/results")
	// is replaced by a temporary directory, or relative paths start there.
	dir string
}

// checkDeployment runs d's shards, then its merge, in dir, and compares
// what the merge wrote with what the unsharded command writes.
func checkDeployment(t *testing.T, d deployment) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	os.Mkdir("results", 0o755)
	local := func(words []string) []string {
		var out []string
		for _, w := range words {
			if d.dir != "" {
				w = strings.ReplaceAll(w, d.dir+"/", tmp+"/results/")
			}
			out = append(out, w)
		}
		return out
	}
	flag := func(words []string, name string) (string, bool) {
		for _, w := range words {
			if v, ok := strings.CutPrefix(w, "--"+name+"="); ok {
				return v, true
			}
		}
		return "", false
	}

	first, _ := d.shard(1)
	first = local(first)
	if s, _ := flag(first, "shard"); !strings.HasSuffix(s, "/"+strconv.Itoa(d.n)) {
		t.Errorf("--shard=%s, but the engine runs %d shards", s, d.n)
	}
	unsharded := slices.DeleteFunc(slices.Clone(first), func(w string) bool {
		return strings.HasPrefix(w, "--shard=") || strings.HasPrefix(w, "--out=")
	})
	plot, _ := flag(first, "plot")
	code, want, errw := raftsim(append(unsharded, fewTrials...)...)
	if code != 0 {
		t.Fatalf("raftsim %q: exit %d: %s", unsharded, code, errw)
	}
	wantPlot, _ := os.ReadFile(plot)
	os.Remove(plot)

	for k := 1; k <= d.n; k++ {
		args, env := d.shard(k)
		for name, v := range env {
			t.Setenv(name, v)
		}
		args = local(args)
		if code, _, errw := raftsim(append(args, fewTrials...)...); code != 0 {
			t.Fatalf("shard %d: raftsim %q: exit %d: %s", k, args, code, errw)
		}
	}
	var merge []string
	for _, w := range local(d.merge) {
		if strings.Contains(w, "*") {
			files, _ := filepath.Glob(w)
			if len(files) != d.n {
				t.Fatalf("the merge's %s matches %d files, want the %d partial results", w, len(files), d.n)
			}
			merge = append(merge, files...)
			continue
		}
		merge = append(merge, w)
	}
	code, got, errw := raftsim(merge...)
	if code != 0 {
		t.Fatalf("raftsim %q: exit %d: %s", merge, code, errw)
	}
	if out, ok := flag(merge, "out"); ok {
		data, _ := os.ReadFile(out)
		got = string(data)
	}
	if got != want {
		t.Errorf("merged:\n%s\nunsharded:\n%s", got, want)
	}
	if gotPlot, _ := os.ReadFile(plot); plot == "" || !bytes.Equal(gotPlot, wantPlot) || len(gotPlot) == 0 {
		t.Errorf("the merge's plot %q differs from the unsharded command's (%d and %d bytes)", plot, len(gotPlot), len(wantPlot))
	}
}

// shellWords splits a command of a shell script into words, as sh would
// for the plain commands of deploy/: backslash-newline joins lines, blanks
// separate words, '…' and "…" quote, and $NAME and ${NAME} expand from
// vars (a name not there fails the test).
func shellWords(t *testing.T, text string, vars map[string]string) []string {
	t.Helper()
	text = strings.ReplaceAll(text, "\\\n", " ")
	var words []string
	var w strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote == '\'' && c != '\'', quote == '"' && c != '"' && c != '$':
			w.WriteByte(c)
		case c == '\'' || c == '"':
			if quote == 0 {
				quote = c
			} else {
				quote = 0
			}
			inWord = true
		case c == '$':
			name := regexp.MustCompile(`^\$(\{\w+\}|\w+)`).FindString(text[i:])
			v, ok := vars[strings.Trim(name, "${}")]
			if !ok {
				t.Fatalf("%q: the variable %s is not one the engine sets", text, name)
			}
			w.WriteString(v)
			i += len(name) - 1
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// scriptCommand returns the command of script that starts with prefix, with its
// continuation lines.
func scriptCommand(t *testing.T, script, prefix string) string {
	t.Helper()
	i := strings.Index(script, "\n"+prefix)
	if i < 0 {
		t.Fatalf("no command starting %q", prefix)
	}
	cmd := script[i+1:]
	if end := regexp.MustCompile(`[^\\]\n`).FindStringIndex(cmd); end != nil {
		cmd = cmd[:end[0]+1]
	}
	return cmd
}

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// slurmArray reads an sbatch --array range, a-b[:step][%limit].
var slurmArray = regexp.MustCompile(`(?m)^#SBATCH --array=(\d+)-(\d+)(?::(\d+))?(?:%(\d+))?$`)

// TestSlurmJobArray: the array has as many tasks as --shard auto/N has
// shards, and its shards, each run with the variables Slurm sets,
// merged by merge.sbatch's command, print what the unsharded command
// prints.
func TestSlurmJobArray(t *testing.T) {
	script := readDeploy(t, "slurm/shards.sbatch")
	m := slurmArray.FindStringSubmatch(script)
	if m == nil {
		t.Fatal("shards.sbatch has no #SBATCH --array=A-B line")
	}
	lo, _ := strconv.Atoi(m[1])
	hi, _ := strconv.Atoi(m[2])
	step := 1
	if m[3] != "" {
		step, _ = strconv.Atoi(m[3])
	}
	n := (hi-lo)/step + 1
	cpus := regexp.MustCompile(`(?m)^#SBATCH --cpus-per-task=(\d+)$`).FindStringSubmatch(script)
	if cpus == nil {
		t.Fatal("shards.sbatch has no #SBATCH --cpus-per-task")
	}
	shardArgs := func(k int) ([]string, map[string]string) {
		env := map[string]string{
			shard.EnvSlurm: strconv.Itoa(lo + (k-1)*step), shard.EnvSlurmMin: m[1], shard.EnvSlurmStep: strconv.Itoa(step),
			shard.EnvSlurmCount: strconv.Itoa(n), "SLURM_CPUS_PER_TASK": cpus[1], shard.EnvKubernetes: "",
		}
		return shellWords(t, scriptCommand(t, script, "raftsim "), env)[1:], env
	}
	args, _ := shardArgs(1)
	if !slices.Contains(args, "--shard=auto/"+strconv.Itoa(n)) || !slices.Contains(args, "--workers="+cpus[1]) {
		t.Errorf("%q: want --shard=auto/%d (the array's tasks) and --workers=%s (--cpus-per-task)", args, n, cpus[1])
	}
	if !strings.Contains(scriptCommand(t, script, "raftsim "), "--out=\"results/part-$"+shard.EnvSlurm+".json\"") {
		t.Errorf("the shards' --out does not name each partial result by %s", shard.EnvSlurm)
	}
	merge := shellWords(t, scriptCommand(t, readDeploy(t, "slurm/merge.sbatch"), "raftsim "), nil)
	checkDeployment(t, deployment{n: n, shard: shardArgs, merge: merge[1:]})
}

// TestXargsScript: the single-machine script runs shards 1 to N of N with
// xargs -P, and they merge to what the unsharded command prints.
func TestXargsScript(t *testing.T) {
	script := readDeploy(t, "local/shards.sh")
	vars := map[string]string{}
	for _, name := range []string{"N", "P"} {
		m := regexp.MustCompile(`(?m)^` + name + `=(\d+)$`).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("shards.sh does not set %s", name)
		}
		vars[name] = m[1]
	}
	xargs := shellWords(t, scriptCommand(t, script, "  xargs "), vars)
	if !slices.Equal(xargs[:4], []string{"xargs", "-P", vars["P"], "-I{}"}) || xargs[4] != "raftsim" {
		t.Fatalf("%q: want xargs -P $P -I{} raftsim ...", xargs)
	}
	n, _ := strconv.Atoi(vars["N"])
	shardArgs := func(k int) ([]string, map[string]string) {
		var args []string
		for _, w := range xargs[5:] {
			args = append(args, strings.ReplaceAll(w, "{}", strconv.Itoa(k)))
		}
		return args, nil
	}
	if args, _ := shardArgs(3); !slices.Contains(args, fmt.Sprintf("--shard=3/%d", n)) || !slices.Contains(args, "--out=results/part-3.json") {
		t.Errorf("shard 3: %q: want --shard=3/%d --out=results/part-3.json", args, n)
	}
	merge := shellWords(t, scriptCommand(t, script, "raftsim merge"), vars)
	checkDeployment(t, deployment{n: n, shard: shardArgs, merge: merge[1:]})
}
