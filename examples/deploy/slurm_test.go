package deploy_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftsim/raftsim/internal/testkit/long"
)

// slurmPrograms are what slurm/local-slurm.sh needs besides raftsim.
var slurmPrograms = []string{"bash", "munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "scancel"}

// TestSlurmOnALocalCluster runs slurm/local-slurm.sh: shards.sbatch and
// merge.sbatch, unchanged, on a single-node Slurm started on this machine,
// their merge compared byte for byte with the unsharded command's table and
// plot. It runs in the long suites where Slurm and MUNGE are installed
// (.ci/run installs them on Debian), and checks that the script left no
// process and no directory behind.
func TestSlurmOnALocalCluster(t *testing.T) {
	if !long.Enabled() {
		t.Skip("the Slurm run is in the long suites (RAFTSIM_LONG=1)")
	}
	for _, prog := range slurmPrograms {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed, so the shards do not run on Slurm here (Debian: apt-get install slurm-wlm munge, as .ci/run does)", prog)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(deployDir, "slurm", "local-slurm.sh"))
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(raftsimBin)+string(os.PathListSeparator)+os.Getenv("PATH"), "TIMEOUT=600")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // the script's trap stops what it started
	cmd.WaitDelay = time.Minute
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("local-slurm.sh:\n%s", lastLines(out.String(), 8))
	work := regexp.MustCompile(`runs in (\S+) `).FindStringSubmatch(out.String())
	if work != nil {
		if _, statErr := os.Stat(work[1]); !os.IsNotExist(statErr) {
			t.Errorf("the script left its directory %s behind", work[1])
		}
		if pids := markedProcesses("RAFTSIM_LOCAL_SLURM=" + work[1]); len(pids) > 0 {
			t.Errorf("the script left processes %v behind", pids)
		}
	}
	if err != nil {
		t.Fatalf("local-slurm.sh: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "byte for byte the unsharded command's") {
		t.Errorf("local-slurm.sh exited 0 without saying that the merge matched:\n%s", out.String())
	}
}

// markedProcesses returns the processes whose environment holds marker.
func markedProcesses(marker string) []string {
	var pids []string
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == marker {
				pids = append(pids, filepath.Base(filepath.Dir(p)))
			}
		}
	}
	return pids
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
