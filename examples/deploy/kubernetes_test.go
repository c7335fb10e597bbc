package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/raftsim/raftsim/internal/study/shard"
)

// A manifest's objects are read into the Kubernetes API's own Go types
// (k8s.io/api), strictly: a field the API does not have, one given
// twice, a value of the wrong type or a quantity that does not parse is
// an error, as the API server would refuse the object. That is the part
// of a schema validator's work that needs no server and no schema
// download (kubeconform fetches its schemas from the network when it
// runs); checkJob and checkClaim add the API server's validation rules
// that these manifests depend on.

// manifest holds the objects of one Kubernetes manifest file.
type manifest struct {
	claims []corev1.PersistentVolumeClaim
	jobs   []batchv1.Job
}

// readManifest reads the YAML documents of a manifest, each a
// PersistentVolumeClaim or a batch/v1 Job, and checks each.
func readManifest(text string) (manifest, error) {
	var m manifest
	docs := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	for i := 1; ; i++ {
		doc, err := docs.Read()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return m, fmt.Errorf("document %d: %v", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var kind struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &kind); err != nil {
			return m, fmt.Errorf("document %d: %v", i, err)
		}
		var problems []string
		switch kind.APIVersion + " " + kind.Kind {
		case "v1 PersistentVolumeClaim":
			problems, err = decodeInto(doc, &m.claims, checkClaim)
		case "batch/v1 Job":
			problems, err = decodeInto(doc, &m.jobs, checkJob)
		default:
			return m, fmt.Errorf("document %d: apiVersion %q kind %q: want a v1 PersistentVolumeClaim or a batch/v1 Job", i, kind.APIVersion, kind.Kind)
		}
		if err != nil {
			return m, fmt.Errorf("document %d (%s): %v", i, kind.Kind, err)
		}
		if len(problems) > 0 {
			return m, fmt.Errorf("document %d (%s): %s", i, kind.Kind, strings.Join(problems, "; "))
		}
	}
}

// decodeInto decodes doc strictly into an object it appends to list, and
// returns what check finds wrong with it.
func decodeInto[T any](doc []byte, list *[]T, check func(*T) []string) ([]string, error) {
	var v T
	if err := decodeStrict(doc, &v); err != nil {
		return nil, err
	}
	*list = append(*list, v)
	return check(&v), nil
}

// decodeStrict decodes a YAML document into an API type as the API
// server decodes a request's body: field names matched with their case,
// and a key given twice or a field the type does not have refused.
func decodeStrict(doc []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// checkName is the API server's rule for object names.
func checkName(name string) []string {
	var problems []string
	for _, p := range validation.IsDNS1123Subdomain(name) {
		problems = append(problems, fmt.Sprintf("metadata.name %q: %s", name, p))
	}
	return problems
}

// checkClaim applies the API server's rules for a claim that these
// manifests rely on.
func checkClaim(c *corev1.PersistentVolumeClaim) []string {
	problems := checkName(c.Name)
	if len(c.Spec.AccessModes) == 0 {
		problems = append(problems, "spec.accessModes: at least one is required")
	}
	if _, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		problems = append(problems, "spec.resources.requests.storage: required")
	}
	return problems
}

// checkJob applies the API server's rules for a Job and its pod template
// that these manifests rely on.
func checkJob(j *batchv1.Job) []string {
	problems := checkName(j.Name)
	spec := &j.Spec
	if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion && spec.Completions == nil {
		problems = append(problems, "spec.completions: required when completionMode is Indexed")
	}
	for field, v := range map[string]*int32{"parallelism": spec.Parallelism, "completions": spec.Completions, "backoffLimit": spec.BackoffLimit} {
		if v != nil && *v < 0 {
			problems = append(problems, fmt.Sprintf("spec.%s: %d is negative", field, *v))
		}
	}
	pod := &spec.Template.Spec
	if p := pod.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
		problems = append(problems, fmt.Sprintf("spec.template.spec.restartPolicy %q: a Job's pods need Never or OnFailure", p))
	}
	if len(pod.Containers) == 0 {
		problems = append(problems, "spec.template.spec.containers: at least one is required")
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range pod.Containers {
		at := "container " + strconv.Quote(c.Name)
		for _, p := range validation.IsDNS1123Label(c.Name) {
			problems = append(problems, fmt.Sprintf("%s: name: %s", at, p))
		}
		if c.Image == "" {
			problems = append(problems, at+": image: required")
		}
		for _, e := range c.Env {
			for _, p := range validation.IsRelaxedEnvVarName(e.Name) {
				problems = append(problems, fmt.Sprintf("%s: env %q: %s", at, e.Name, p))
			}
		}
		for _, vm := range c.VolumeMounts {
			if !volumes[vm.Name] {
				problems = append(problems, fmt.Sprintf("%s: volumeMounts: no volume named %q", at, vm.Name))
			}
		}
		for name, limit := range c.Resources.Limits {
			if request, ok := c.Resources.Requests[name]; ok && request.Cmp(limit) > 0 {
				problems = append(problems, fmt.Sprintf("%s: resources: the %s request %s is above its limit %s", at, name, request.String(), limit.String()))
			}
		}
	}
	slices.Sort(problems) // the map walks above are in no order
	return problems
}

func readK8s(t *testing.T, name string) manifest {
	t.Helper()
	m, err := readManifest(readDeploy(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestManifestsAreCheckedAsTheAPIServerWould: each way of breaking the
// shards manifest that a schema or the API server would refuse is
// refused here too, naming the field; the manifest as shipped is not.
func TestManifestsAreCheckedAsTheAPIServerWould(t *testing.T) {
	shipped := readDeploy(t, "kubernetes/shards.yaml")
	if _, err := readManifest(shipped); err != nil {
		t.Fatalf("the shipped manifest: %v", err)
	}
	for _, c := range []struct{ old, new, want string }{
		{"completionMode: Indexed", "completionmode: Indexed", `unknown field "spec.completionmode"`},
		{"parallelism: 10", "parallelism: ten", "parallelism"},
		{"parallelism: 10", "parallelism: 10\n  parallelism: 5", `"parallelism" already set`},
		{`cpu: "2", memory: 256Mi}`, `cpu: "2x", memory: 256Mi}`, "quantities must match"},
		{"restartPolicy: Never", "restartPolicy: Always", "restartPolicy \"Always\""},
		{"completions: 20", "completions: -20", "spec.completions: -20 is negative"},
		{"completions: 20   #", "#", "spec.completions: required when completionMode is Indexed"},
		{"name: raftsim-shards", "name: Raftsim_Shards", `metadata.name "Raftsim_Shards"`},
		{"- name: shard", "- name: Shard", `container "Shard": name`},
		{"- name: results\n              mountPath", "- name: output\n              mountPath", `no volume named "output"`},
		{"image: raftsim:dev", "image: \"\"", "image: required"},
		{"- name: JOB_COMPLETION_INDEX", "- name: JOB=INDEX", `env "JOB=INDEX"`},
		{"limits: {cpu: \"2\"", "limits: {cpu: \"1\"", "the cpu request 2 is above its limit 1"},
		{"accessModes: [ReadWriteMany]", "accessModes: []", "spec.accessModes"},
		{"kind: Job", "kind: CronJob", `kind "CronJob"`},
	} {
		broken := strings.Replace(shipped, c.old, c.new, 1)
		if broken == shipped {
			t.Fatalf("%q is not in the manifest", c.old)
		}
		_, err := readManifest(broken)
		t.Logf("%q → %q: %v", c.old, c.new, err)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: got %v, want an error with %q", c.old, c.new, err, c.want)
		}
	}
}

// TestKubernetesIndexedJob: the Indexed Job has as many completions as
// --shard auto/N has shards, gives each pod JOB_COMPLETION_INDEX, writes
// every partial where the merge Job reads them, and its shards merged
// print what the unsharded command prints.
func TestKubernetesIndexedJob(t *testing.T) {
	shards := readK8s(t, "kubernetes/shards.yaml")
	merges := readK8s(t, "kubernetes/merge.yaml")
	if len(shards.claims) != 1 || len(shards.jobs) != 1 || len(merges.jobs) != 1 || len(merges.claims) != 0 {
		t.Fatalf("want a claim and a Job in shards.yaml, a Job in merge.yaml")
	}
	claim, job, merge := shards.claims[0].Name, &shards.jobs[0], &merges.jobs[0]
	spec := &job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion ||
		spec.Parallelism == nil || *spec.Parallelism < 1 || *spec.Parallelism > *spec.Completions {
		t.Fatalf("completionMode %v, parallelism %v of %d completions: want Indexed, 1 to completions",
			spec.CompletionMode, spec.Parallelism, *spec.Completions)
	}
	completions := int(*spec.Completions)
	// dir returns where a Job's pods mount the claim.
	dir := func(j *batchv1.Job) string {
		pod := &j.Spec.Template.Spec
		for _, v := range pod.Volumes {
			for _, m := range pod.Containers[0].VolumeMounts {
				if m.Name == v.Name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
					return m.MountPath
				}
			}
		}
		t.Fatalf("%s mounts no claim %s", j.Name, claim)
		return ""
	}
	results := dir(job)
	if d := dir(merge); d != results {
		t.Errorf("the shards write to %s, the merge reads %s", results, d)
	}
	c := spec.Template.Spec.Containers[0]
	index := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == shard.EnvKubernetes })
	if index < 0 || c.Env[index].ValueFrom == nil || c.Env[index].ValueFrom.FieldRef == nil ||
		c.Env[index].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("the pod's environment does not give %s the completion index", shard.EnvKubernetes)
	}
	shardArgs := func(k int) ([]string, map[string]string) {
		i := strconv.Itoa(k - 1)
		var args []string
		for _, a := range c.Args {
			args = append(args, strings.ReplaceAll(a, "$("+shard.EnvKubernetes+")", i))
		}
		return args, map[string]string{shard.EnvKubernetes: i, shard.EnvSlurm: ""}
	}
	cpus := c.Resources.Requests[corev1.ResourceCPU]
	if !slices.Contains(c.Args, "--shard=auto/"+strconv.Itoa(completions)) ||
		!slices.Contains(c.Args, "--out="+results+"/part-$("+shard.EnvKubernetes+").json") ||
		!slices.Contains(c.Args, "--workers="+cpus.String()) {
		t.Errorf("args %q: want --shard=auto/%d, --out=%s/part-$(%s).json and --workers=%s (the CPUs requested)",
			c.Args, completions, results, shard.EnvKubernetes, cpus.String())
	}
	m := merge.Spec.Template.Spec.Containers[0]
	if !slices.Equal(m.Command, []string{"sh", "-c"}) || len(m.Args) != 1 {
		t.Fatalf("merge: command %q args %q: want sh -c and one script", m.Command, m.Args)
	}
	words := shellWords(t, m.Args[0], nil)
	if words[0] != "raftsim" {
		t.Fatalf("merge: %q does not run raftsim", m.Args[0])
	}
	checkDeployment(t, deployment{n: completions, shard: shardArgs, merge: words[1:], dir: results})
}
