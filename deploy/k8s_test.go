// Package deploy holds the deployment files (Dockerfile, compose cluster, Kubernetes
// manifests, systemd units) and, in its tests only, their checks: every Kubernetes manifest
// decodes strictly into its API type, the KEDA object and the Prometheus Adapter rule hold
// only the fields their documentation lists, every container's arguments pass the binary's
// own flag parser, and the systemd units pass systemd-analyze security.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// manifest is one YAML document of deploy/k8s, decoded into the type of its kind.
type manifest struct {
	file string // relative to deploy/k8s, with the document's index: "worker.yaml#1"
	kind string // apiVersion/kind
	obj  any    // a pointer to the decoded object
}

// decoders make the object each apiVersion/kind decodes into: the k8s.io/api types for
// the built-in kinds, the hand-written schema of keda.go for KEDA's ScaledObject. A document
// of any other kind fails the test, so that nothing goes unchecked.
var decoders = map[string]func() any{
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/PersistentVolumeClaim":               func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"keda.sh/v1alpha1/ScaledObject":          func() any { return &scaledObject{} },
}

// decodeStrict decodes YAML into v as the API server's strict field validation does: a
// duplicate key, an unknown field, a field spelt in another case ("clusterIp" for clusterIP)
// or a value of the wrong type is an error. (encoding/json's DisallowUnknownFields matches
// field names case-insensitively, so it lets "clusterIp" through.)
func decodeStrict(data []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// splitDocuments splits a YAML stream at its "---" lines; documents of comments only are
// dropped.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		for _, l := range strings.Split(cur.String(), "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, slices.Clone(cur.Bytes()))
				break
			}
		}
		cur.Reset()
	}
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(l, " \r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(l)
	}
	flush()
	return docs
}

// loadManifests decodes every document of every .yaml file under dir strictly.
func loadManifests(t *testing.T, dir string) []manifest {
	t.Helper()
	var out []manifest
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for i, doc := range splitDocuments(data) {
			name := fmt.Sprintf("%s#%d", rel, i)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			kind := tm.APIVersion + "/" + tm.Kind
			newObj, ok := decoders[kind]
			if !ok {
				t.Errorf("%s: kind %s has no schema in this test", name, kind)
				continue
			}
			obj := newObj()
			if err := decodeStrict(doc, obj); err != nil {
				t.Errorf("%s (%s): %v", name, kind, err)
				continue
			}
			out = append(out, manifest{file: name, kind: kind, obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeStrict_RejectsUnknownFields(t *testing.T) {
	tests := []struct {
		name, doc string
		obj       any
		wantErr   string
	}{
		{"fine", "apiVersion: v1\nkind: Service\nspec:\n  clusterIP: None\n", &corev1.Service{}, ""},
		{"misspelt field", "apiVersion: v1\nkind: Service\nspec:\n  clusterIp: None\n", &corev1.Service{}, `unknown field "spec.clusterIp"`},
		{"field of another kind", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  serviceName: x\n", &appsv1.Deployment{}, `unknown field "spec.serviceName"`},
		{"duplicate key", "apiVersion: v1\nkind: Service\nkind: Service\n", &corev1.Service{}, "already set"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: two\n", &appsv1.Deployment{}, "cannot unmarshal"},
		{"keda misspelt", "spec:\n  scaleTargetRef: {name: w}\n  minReplicas: 1\n  triggers: []\n", &scaledObject{}, `unknown field "spec.minReplicas"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeStrict([]byte(tt.doc), tt.obj)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"a: 1\n", 1},
		{"# only a comment\n---\na: 1\n---\nb: 2\n", 2},
		{"a: 1\n---\n\n---\nb: |\n  ---x\n", 2},
	}
	for _, tt := range tests {
		if got := len(splitDocuments([]byte(tt.in))); got != tt.want {
			t.Errorf("splitDocuments(%q): %d documents, want %d", tt.in, got, tt.want)
		}
	}
}

// TestK8sManifests decodes every manifest strictly, runs every container's command line
// through the binary's flag parser (tokenmill coordinator|worker --check-flags), and checks
// that the objects agree with each other and with the flags: Services and probes name real
// ports, the drain fits in the grace period, the autoscalers read a metric the coordinators
// export.
func TestK8sManifests(t *testing.T) {
	ms := loadManifests(t, "k8s")
	if t.Failed() {
		t.FailNow()
	}
	bin := buildTokenmill(t)
	pods := podTemplates(ms)
	if len(pods) == 0 {
		t.Fatal("no workload in deploy/k8s")
	}
	flags := map[string]map[string][]string{} // workload -> the parsed flags of its container
	for _, p := range pods {
		for _, c := range p.spec.Containers {
			t.Run(p.name+"/"+c.Name, func(t *testing.T) {
				f := checkContainer(t, bin, p, c)
				flags[p.name] = f
			})
		}
	}
	t.Run("services", func(t *testing.T) { checkServices(t, ms, pods) })
	t.Run("statefulset", func(t *testing.T) { checkStatefulSets(t, ms, flags) })
	t.Run("drain", func(t *testing.T) { checkDrain(t, pods, flags) })
	t.Run("disruption", func(t *testing.T) { checkDisruptionBudgets(t, ms, pods) })
	t.Run("autoscaling", func(t *testing.T) { checkAutoscaling(t, ms, pods, bin) })
}

// buildTokenmill builds the binary into a temporary directory and returns its path.
func buildTokenmill(t *testing.T) string {
	t.Helper()
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	bin := filepath.Join(t.TempDir(), "tokenmill")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/tokenmill")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tokenmill: %v\n%s", err, out)
	}
	return bin
}

// podTemplate is the pod template of a workload of the manifests.
type podTemplate struct {
	name, kind string // the workload's name and kind
	labels     map[string]string
	spec       corev1.PodSpec
	claims     []corev1.PersistentVolumeClaim // a StatefulSet's volumeClaimTemplates
}

func podTemplates(ms []manifest) []podTemplate {
	var out []podTemplate
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{o.Name, "StatefulSet", o.Spec.Template.Labels, o.Spec.Template.Spec, o.Spec.VolumeClaimTemplates})
		case *appsv1.Deployment:
			out = append(out, podTemplate{o.Name, "Deployment", o.Spec.Template.Labels, o.Spec.Template.Spec, nil})
		}
	}
	return out
}

// fieldRefSamples are the values the test gives the downward API's fields.
var fieldRefSamples = map[string]func(p podTemplate) string{
	"metadata.name": func(p podTemplate) string {
		if p.kind == "StatefulSet" {
			return p.name + "-0"
		}
		return p.name + "-7d9f8c6b5-x2x9q"
	},
	"metadata.namespace": func(podTemplate) string { return "tokenmill" },
	"status.podIP":       func(podTemplate) string { return "10.1.2.3" },
	"spec.nodeName":      func(podTemplate) string { return "node-1" },
}

// containerEnv resolves the container's env as the kubelet would, with fieldRefSamples for
// the downward API.
func containerEnv(t *testing.T, p podTemplate, c corev1.Container) []corev1.EnvVar {
	t.Helper()
	var env []corev1.EnvVar
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			if e.ValueFrom.FieldRef == nil {
				t.Errorf("env %s: only fieldRef is supported here", e.Name)
				continue
			}
			sample, ok := fieldRefSamples[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Errorf("env %s: fieldRef %q has no sample value", e.Name, e.ValueFrom.FieldRef.FieldPath)
				continue
			}
			v = sample(p)
		} else {
			v = expandRefs(t, v, env)
		}
		env = append(env, corev1.EnvVar{Name: e.Name, Value: v})
	}
	return env
}

// expandRefs expands $(NAME) with the env defined so far, as the kubelet does in command,
// args and env values; $$ is a literal $. A reference to a variable not defined is an error
// here (the kubelet would leave it as it is).
func expandRefs(t *testing.T, s string, env []corev1.EnvVar) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(s[i:], "$("):
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				t.Errorf("%q: unterminated $(", s)
				return s
			}
			name := s[i+2 : i+end]
			j := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == name })
			if j < 0 {
				t.Errorf("%q: $(%s) is not defined in the container's env before it", s, name)
			} else {
				b.WriteString(env[j].Value)
			}
			i += end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// checkContainer runs the container's command line through `tokenmill CMD --check-flags`
// and returns the flags it printed (name -> values). The TOKENMILL_* variables of the env
// become the flags they stand for (TOKENMILL_ + the flag's name in upper case, "-" as "_");
// a flag given both ways is an error in a manifest.
func checkContainer(t *testing.T, bin string, p podTemplate, c corev1.Container) map[string][]string {
	t.Helper()
	if len(c.Command) != 1 || filepath.Base(c.Command[0]) != "tokenmill" || len(c.Args) == 0 {
		t.Fatalf("command %q args %q: want the tokenmill binary as the command and its subcommand first in args", c.Command, c.Args)
	}
	env := containerEnv(t, p, c)
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = expandRefs(t, a, env)
	}
	sub := args[0]
	if sub != "coordinator" && sub != "worker" {
		t.Fatalf("subcommand %q: want coordinator or worker", sub)
	}
	given := map[string]bool{}
	for _, a := range args[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		given[name] = true
	}
	for _, e := range env {
		rest, ok := strings.CutPrefix(e.Name, "TOKENMILL_")
		if !ok {
			continue
		}
		name := strings.ReplaceAll(strings.ToLower(rest), "_", "-")
		if given[name] {
			t.Errorf("--%s is given both in args and as %s", name, e.Name)
		}
		args = append(args, "--"+name+"="+e.Value)
	}
	cmd := exec.Command(bin, append([]string{sub, "--check-flags"}, args[1:]...)...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokenmill %s --check-flags %s: %v\n%s", sub, strings.Join(args[1:], " "), err, stderr.String())
	}
	flags := map[string][]string{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		name, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "--"), "=")
		if !ok {
			t.Fatalf("--check-flags printed %q: want --name=value", sc.Text())
		}
		flags[name] = append(flags[name], v)
	}
	checkPorts(t, c, flags)
	checkProbes(t, c, flags)
	checkMounts(t, p, c, flags)
	return flags
}

// portFlags name the flag that sets the port of each named container port.
var portFlags = map[string]string{"grpc": "grpc-port", "raft": "raft-port", "gossip": "gossip-port",
	"gossip-udp": "gossip-port", "http": "http-port"}

// checkPorts checks that every named container port is the port its flag sets, and that
// every port the flags set is declared.
func checkPorts(t *testing.T, c corev1.Container, flags map[string][]string) {
	t.Helper()
	declared := map[string]bool{}
	for _, cp := range c.Ports {
		flag, ok := portFlags[cp.Name]
		if !ok {
			t.Errorf("container port %q: no flag sets it", cp.Name)
			continue
		}
		declared[flag] = true
		if v := flags[flag]; len(v) != 1 || v[0] != strconv.Itoa(int(cp.ContainerPort)) {
			t.Errorf("container port %s is %d but --%s is %v", cp.Name, cp.ContainerPort, flag, v)
		}
	}
	for _, flag := range []string{"grpc-port", "raft-port", "gossip-port", "http-port"} {
		if v, ok := flags[flag]; ok && v[0] != "-1" && !declared[flag] {
			t.Errorf("--%s=%s is not a declared container port", flag, v[0])
		}
	}
}

// checkProbes checks that every probe is `tokenmill health --http 127.0.0.1:PORT` with the
// container's binary and its --http-port.
func checkProbes(t *testing.T, c corev1.Container, flags map[string][]string) {
	t.Helper()
	for name, pr := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if pr == nil {
			if name != "startup" {
				t.Errorf("no %s probe", name)
			}
			continue
		}
		want := []string{c.Command[0], "health", "--http", "127.0.0.1:" + strings.Join(flags["http-port"], "")}
		if pr.Exec == nil || !slices.Equal(pr.Exec.Command, want) {
			t.Errorf("%s probe %+v: want exec %q", name, pr.ProbeHandler, want)
		}
	}
}

// checkMounts checks that --data-dir is a mounted volume and every mount names a volume.
func checkMounts(t *testing.T, p podTemplate, c corev1.Container, flags map[string][]string) {
	t.Helper()
	vols := map[string]bool{}
	for _, v := range p.spec.Volumes {
		vols[v.Name] = true
	}
	for _, pvc := range p.claims {
		vols[pvc.Name] = true
	}
	dataDirMounted := false
	for _, m := range c.VolumeMounts {
		if !vols[m.Name] {
			t.Errorf("volume mount %q names no volume", m.Name)
		}
		dataDirMounted = dataDirMounted || slices.Contains(flags["data-dir"], m.MountPath)
	}
	if !dataDirMounted {
		t.Errorf("--data-dir %v is not a volume mount", flags["data-dir"])
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkServices checks that every Service selects a workload and that its target ports are
// ports of that workload's containers, with the same protocol.
func checkServices(t *testing.T, ms []manifest, pods []podTemplate) {
	for _, m := range ms {
		svc, ok := m.obj.(*corev1.Service)
		if !ok {
			continue
		}
		i := slices.IndexFunc(pods, func(p podTemplate) bool { return selects(svc.Spec.Selector, p.labels) })
		if i < 0 {
			t.Errorf("%s: Service %s selects no workload", m.file, svc.Name)
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if !hasPort(pods[i].spec, sp.TargetPort.String(), protocol(sp.Protocol)) {
				t.Errorf("%s: Service %s port %s: %s has no %s container port %q", m.file, svc.Name, sp.Name, pods[i].name, protocol(sp.Protocol), sp.TargetPort.String())
			}
		}
	}
}

func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func hasPort(spec corev1.PodSpec, name string, proto corev1.Protocol) bool {
	for _, c := range spec.Containers {
		for _, cp := range c.Ports {
			if (cp.Name == name || strconv.Itoa(int(cp.ContainerPort)) == name) && protocol(cp.Protocol) == proto {
				return true
			}
		}
	}
	return false
}

// checkStatefulSets checks the coordinators' StatefulSet: a headless governing Service that
// publishes not-ready addresses, parallel pod management, replicas equal to
// --bootstrap-expect, and --join naming every replica's gossip address.
func checkStatefulSets(t *testing.T, ms []manifest, flags map[string]map[string][]string) {
	found := false
	for _, m := range ms {
		sts, ok := m.obj.(*appsv1.StatefulSet)
		if !ok {
			continue
		}
		found = true
		i := slices.IndexFunc(ms, func(o manifest) bool {
			svc, ok := o.obj.(*corev1.Service)
			return ok && svc.Name == sts.Spec.ServiceName
		})
		if i < 0 {
			t.Errorf("%s: serviceName %q is no Service of the manifests", m.file, sts.Spec.ServiceName)
			continue
		}
		svc := ms[i].obj.(*corev1.Service)
		if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
			t.Errorf("Service %s: want clusterIP None and publishNotReadyAddresses", svc.Name)
		}
		if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
			t.Errorf("%s: podManagementPolicy %q: want Parallel (a coordinator is ready only once raft has a leader)", m.file, sts.Spec.PodManagementPolicy)
		}
		f := flags[sts.Name]
		if sts.Spec.Replicas == nil || !slices.Equal(f["bootstrap-expect"], []string{strconv.Itoa(int(*sts.Spec.Replicas))}) {
			t.Errorf("%s: replicas %v, --bootstrap-expect %v: want them equal", m.file, sts.Spec.Replicas, f["bootstrap-expect"])
			continue
		}
		var want []string
		for r := range int(*sts.Spec.Replicas) {
			want = append(want, fmt.Sprintf("%s-%d.%s:%s", sts.Name, r, svc.Name, strings.Join(f["gossip-port"], "")))
		}
		if !slices.Equal(f["join"], want) {
			t.Errorf("%s: --join %q, want every replica's gossip address %q", m.file, f["join"], want)
		}
		if sts.Spec.Template.Spec.Affinity == nil || sts.Spec.Template.Spec.Affinity.PodAntiAffinity == nil {
			t.Errorf("%s: no pod anti-affinity", m.file)
		}
	}
	if !found {
		t.Error("no StatefulSet of coordinators")
	}
}

// checkDrain checks that a worker's termination grace period outlasts its --drain-timeout.
func checkDrain(t *testing.T, pods []podTemplate, flags map[string]map[string][]string) {
	for _, p := range pods {
		v, ok := flags[p.name]["drain-timeout"]
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v[0])
		if err != nil {
			t.Fatalf("%s: --drain-timeout %q: %v", p.name, v[0], err)
		}
		grace := time.Duration(ptrOr(p.spec.TerminationGracePeriodSeconds, 30)) * time.Second
		if grace <= d {
			t.Errorf("%s: terminationGracePeriodSeconds %v is not above --drain-timeout %v: the kubelet kills a draining worker", p.name, grace, d)
		}
		if lp := p.spec.Containers[0].LivenessProbe; lp != nil {
			if fails := time.Duration(lp.PeriodSeconds*lp.FailureThreshold) * time.Second; fails <= grace {
				t.Errorf("%s: the liveness probe fails after %v of 503s, within the grace period %v", p.name, fails, grace)
			}
		}
	}
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// checkDisruptionBudgets checks that every PodDisruptionBudget selects a workload.
func checkDisruptionBudgets(t *testing.T, ms []manifest, pods []podTemplate) {
	n := 0
	for _, m := range ms {
		pdb, ok := m.obj.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		n++
		if pdb.Spec.Selector == nil || !slices.ContainsFunc(pods, func(p podTemplate) bool { return selects(pdb.Spec.Selector.MatchLabels, p.labels) }) {
			t.Errorf("%s: PodDisruptionBudget %s selects no workload", m.file, pdb.Name)
		}
	}
	if n == 0 {
		t.Error("no PodDisruptionBudget")
	}
}

// checkAutoscaling checks the HPA and its adapter rule, and the KEDA ScaledObject: both
// scale a Deployment of the manifests, the HPA's external metric is one the adapter's rules
// name, and every series their queries read (name and state) is one a running coordinator
// serves on /metrics.
func checkAutoscaling(t *testing.T, ms []manifest, pods []podTemplate, bin string) {
	deployment := func(kind, name string) bool {
		return slices.ContainsFunc(pods, func(p podTemplate) bool { return p.kind == kind && p.name == name })
	}
	var queries []string
	var external []string // metric names the adapter serves
	var hpas, keda int
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *corev1.ConfigMap:
			cfg, err := adapterConfigOf(o)
			if err != nil {
				t.Errorf("%s: %v", m.file, err)
				continue
			}
			for _, r := range append(cfg.Rules, cfg.ExternalRules...) {
				if err := r.check(); err != nil {
					t.Errorf("%s: %v", m.file, err)
				}
				queries = append(queries, r.SeriesQuery, r.MetricsQuery)
			}
			for _, r := range cfg.ExternalRules {
				external = append(external, r.Name.As)
			}
		case *scaledObject:
			keda++
			if err := o.check(); err != nil {
				t.Errorf("%s: %v", m.file, err)
			}
			ref := o.Spec.ScaleTargetRef
			if ref.Kind == "" {
				ref.Kind = "Deployment"
			}
			if !deployment(ref.Kind, ref.Name) {
				t.Errorf("%s: scaleTargetRef %s %s is no workload of the manifests", m.file, ref.Kind, ref.Name)
			}
			for _, tr := range o.Spec.Triggers {
				queries = append(queries, tr.Metadata["query"])
			}
		}
	}
	for _, m := range ms {
		h, ok := m.obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			continue
		}
		hpas++
		if !deployment(h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name) {
			t.Errorf("%s: scaleTargetRef %s %s is no workload of the manifests", m.file, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		for _, ms := range h.Spec.Metrics {
			if ms.Type != autoscalingv2.ExternalMetricSourceType || ms.External == nil {
				t.Errorf("%s: metric of type %s: want External (the coordinators' metric describes no object of the workers)", m.file, ms.Type)
				continue
			}
			if !slices.Contains(external, ms.External.Metric.Name) {
				t.Errorf("%s: external metric %q: no adapter rule names it (rules name %q)", m.file, ms.External.Metric.Name, external)
			}
		}
	}
	if hpas == 0 || keda == 0 || len(external) == 0 {
		t.Fatalf("%d HorizontalPodAutoscalers, %d ScaledObjects, %d adapter external rules: want each", hpas, keda, len(external))
	}
	served := scrapeCoordinator(t, bin)
	for _, q := range queries {
		for _, s := range seriesOf(q) {
			if !served[s] {
				t.Errorf("query %q reads %s, which a coordinator does not serve", q, s)
			}
		}
	}
}

var (
	metricName  = regexp.MustCompile(`\btokenmill_[a-z_]+`)
	stateValues = regexp.MustCompile(`state=~?"([^"]*)"`)
)

// seriesOf returns the series a query reads, as `name{state="s"}` for every state value its
// state matcher lists ("a|b" is a and b), or as `name` with no state matcher.
func seriesOf(q string) []string {
	var out []string
	for _, name := range metricName.FindAllString(q, -1) {
		m := stateValues.FindStringSubmatch(q)
		if m == nil || m[1] == "" {
			out = append(out, name)
			continue
		}
		for _, s := range strings.Split(m[1], "|") {
			out = append(out, fmt.Sprintf(`%s{state=%q}`, name, s))
		}
	}
	return out
}

func TestSeriesOf(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{`tokenmill_tasks{namespace!="",state!=""}`, []string{"tokenmill_tasks"}},
		{`sum(max by (state) (tokenmill_tasks{ns="x",state=~"pending|leased"}))`, []string{`tokenmill_tasks{state="pending"}`, `tokenmill_tasks{state="leased"}`}},
		{`tokenmill_workers_alive`, []string{"tokenmill_workers_alive"}},
	}
	for _, tt := range tests {
		if got := seriesOf(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("seriesOf(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// scrapeCoordinator starts a one-node coordinator on loopback, reads its /metrics once raft
// has a leader, stops it and returns the series served: each metric's name, and
// name{state="s"} for the metrics with a state label.
func scrapeCoordinator(t *testing.T, bin string) map[string]bool {
	t.Helper()
	cmd := exec.Command(bin, "coordinator", "--id", "c1", "--data-dir", t.TempDir(), "--bind", "127.0.0.1",
		"--grpc-port", "0", "--raft-port", "0", "--gossip-port", "0", "--http-port", "0", "--bootstrap-expect", "1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("coordinator: %v\n%s", err, stderr.String())
	}
	_, addr, ok := strings.Cut(strings.TrimSpace(line), ", http ")
	if !ok {
		t.Fatalf("coordinator printed %q: want its http address", line)
	}
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("coordinator %s knows no leader after 30s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	series := regexp.MustCompile(`^([a-z_]+)(?:\{state="([^"]*)"\})? `)
	for _, l := range strings.Split(string(body), "\n") {
		if m := series.FindStringSubmatch(l); m != nil {
			served[m[1]] = true
			if m[2] != "" {
				served[fmt.Sprintf(`%s{state=%q}`, m[1], m[2])] = true
			}
		}
	}
	return served
}
