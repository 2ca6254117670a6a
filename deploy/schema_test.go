package deploy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The schemas below are written by hand from the fields the projects document; decoded with
// decodeStrict, a field they do not list fails.
//
// KEDA's ScaledObject (keda.sh/v1alpha1): the ScaledObject specification of KEDA's
// documentation and its Go types (apis/keda/v1alpha1/scaledobject_types.go,
// scaletriggers_types.go).
type scaledObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       scaledObjectSpec  `json:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef        scaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32         `json:"pollingInterval"`
	InitialCooldownPeriod *int32         `json:"initialCooldownPeriod"`
	CooldownPeriod        *int32         `json:"cooldownPeriod"`
	IdleReplicaCount      *int32         `json:"idleReplicaCount"`
	MinReplicaCount       *int32         `json:"minReplicaCount"`
	MaxReplicaCount       *int32         `json:"maxReplicaCount"`
	Advanced              *kedaAdvanced  `json:"advanced"`
	Triggers              []scaleTrigger `json:"triggers"`
	Fallback              *kedaFallback  `json:"fallback"`
}

type scaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion"`
	Kind                   string `json:"kind"`
	EnvSourceContainerName string `json:"envSourceContainerName"`
}

type kedaAdvanced struct {
	HorizontalPodAutoscalerConfig *struct {
		Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
		Name     string                                         `json:"name"`
	} `json:"horizontalPodAutoscalerConfig"`
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount"`
	ScalingModifiers              *struct {
		Formula          string `json:"formula"`
		Target           string `json:"target"`
		ActivationTarget string `json:"activationTarget"`
		MetricType       string `json:"metricType"`
	} `json:"scalingModifiers"`
}

type kedaFallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior"`
}

type scaleTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name"`
	UseCachedMetrics  bool              `json:"useCachedMetrics"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"authenticationRef"`
	MetricType string `json:"metricType"`
}

// prometheusTriggerKeys are the metadata keys KEDA's Prometheus scaler documents, true for
// the required ones.
var prometheusTriggerKeys = map[string]bool{
	"serverAddress": true, "query": true, "threshold": true,
	"activationThreshold": false, "queryParameters": false, "namespace": false,
	"customHeaders": false, "ignoreNullValues": false, "unsafeSsl": false, "awsRegion": false,
	"timeout": false, "identityOwner": false, "authModes": false,
}

// check checks what the decoding cannot: the kind, a target name, replica bounds, and the
// prometheus triggers' metadata against the keys the scaler documents.
func (s *scaledObject) check() error {
	var errs []error
	if s.APIVersion != "keda.sh/v1alpha1" || s.Kind != "ScaledObject" {
		errs = append(errs, fmt.Errorf("%s/%s: want keda.sh/v1alpha1/ScaledObject", s.APIVersion, s.Kind))
	}
	if s.Spec.ScaleTargetRef.Name == "" {
		errs = append(errs, errors.New("scaleTargetRef.name is required"))
	}
	if lo, hi := ptrOr(s.Spec.MinReplicaCount, 0), ptrOr(s.Spec.MaxReplicaCount, 100); lo > hi {
		errs = append(errs, fmt.Errorf("minReplicaCount %d above maxReplicaCount %d", lo, hi))
	}
	if len(s.Spec.Triggers) == 0 {
		errs = append(errs, errors.New("no triggers"))
	}
	for i, tr := range s.Spec.Triggers {
		if tr.Type != "prometheus" {
			errs = append(errs, fmt.Errorf("trigger %d: type %q has no schema in this test", i, tr.Type))
			continue
		}
		for k := range tr.Metadata {
			if _, ok := prometheusTriggerKeys[k]; !ok {
				errs = append(errs, fmt.Errorf("trigger %d: metadata %q is not a key of the prometheus scaler", i, k))
			}
		}
		for k, required := range prometheusTriggerKeys {
			if required && tr.Metadata[k] == "" {
				errs = append(errs, fmt.Errorf("trigger %d: metadata %q is required", i, k))
			}
		}
		for _, k := range []string{"threshold", "activationThreshold"} {
			if v, ok := tr.Metadata[k]; ok {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					errs = append(errs, fmt.Errorf("trigger %d: %s %q is not a number", i, k, v))
				}
			}
		}
		for _, k := range []string{"ignoreNullValues", "unsafeSsl"} {
			if v, ok := tr.Metadata[k]; ok {
				if _, err := strconv.ParseBool(v); err != nil {
					errs = append(errs, fmt.Errorf("trigger %d: %s %q is not a boolean", i, k, v))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// The Prometheus Adapter's configuration: the metrics discovery config of its documentation
// (docs/config.md, docs/externalmetrics.md) and its Go types (pkg/config/config.go).
type adapterConfig struct {
	Rules         []adapterRule         `json:"rules"`
	ResourceRules *adapterResourceRules `json:"resourceRules"`
	ExternalRules []adapterRule         `json:"externalRules"`
}

type adapterRule struct {
	SeriesQuery   string `json:"seriesQuery"`
	SeriesFilters []struct {
		Is    string `json:"is"`
		IsNot string `json:"isNot"`
	} `json:"seriesFilters"`
	Resources adapterResources `json:"resources"`
	Name      struct {
		Matches string `json:"matches"`
		As      string `json:"as"`
	} `json:"name"`
	MetricsQuery string `json:"metricsQuery"`
}

type adapterResources struct {
	Template  string `json:"template"`
	Overrides map[string]struct {
		Group    string `json:"group"`
		Resource string `json:"resource"`
	} `json:"overrides"`
	Namespaced *bool `json:"namespaced"`
}

type adapterResourceRule struct {
	ContainerQuery string           `json:"containerQuery"`
	NodeQuery      string           `json:"nodeQuery"`
	Resources      adapterResources `json:"resources"`
	ContainerLabel string           `json:"containerLabel"`
}

type adapterResourceRules struct {
	CPU    adapterResourceRule `json:"cpu"`
	Memory adapterResourceRule `json:"memory"`
	Window string              `json:"window"`
}

// adapterConfigKey is the key of the adapter's ConfigMap that holds its config file.
const adapterConfigKey = "config.yaml"

// adapterConfigOf decodes the adapter's config file from its ConfigMap, strictly.
func adapterConfigOf(cm *corev1.ConfigMap) (adapterConfig, error) {
	var cfg adapterConfig
	data, ok := cm.Data[adapterConfigKey]
	if !ok {
		return cfg, fmt.Errorf("ConfigMap %s: no %s", cm.Name, adapterConfigKey)
	}
	if err := decodeStrict([]byte(data), &cfg); err != nil {
		return cfg, fmt.Errorf("ConfigMap %s: %s: %w", cm.Name, adapterConfigKey, err)
	}
	return cfg, nil
}

var adapterTemplateField = regexp.MustCompile(`<<\s*\.(\w+)\s*>>`)

// check checks a rule as the adapter would use it: a series query, a name regexp that
// matches the queried series' name and captures no more than one group when As is empty, a
// metrics query whose template fields are the adapter's (Series, LabelMatchers, GroupBy),
// and resource overrides that name a resource.
func (r adapterRule) check() error {
	var errs []error
	if r.SeriesQuery == "" {
		errs = append(errs, errors.New("rule without seriesQuery"))
	}
	re, err := regexp.Compile(r.Name.Matches)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("name.matches %q: %v", r.Name.Matches, err))
	case r.Name.As == "" && re.NumSubexp() > 1:
		errs = append(errs, fmt.Errorf("name.matches %q has %d groups and name.as is empty", r.Name.Matches, re.NumSubexp()))
	default:
		series := metricName.FindString(r.SeriesQuery)
		if series == "" || !re.MatchString(series) {
			errs = append(errs, fmt.Errorf("name.matches %q does not match the series %q of seriesQuery %q", r.Name.Matches, series, r.SeriesQuery))
		}
	}
	fields := adapterTemplateField.FindAllStringSubmatch(r.MetricsQuery, -1)
	if len(fields) == 0 {
		errs = append(errs, fmt.Errorf("metricsQuery %q uses no <<.Series>>", r.MetricsQuery))
	}
	for _, f := range fields {
		if !slices.Contains([]string{"Series", "LabelMatchers", "GroupBy"}, f[1]) {
			errs = append(errs, fmt.Errorf("metricsQuery: <<.%s>> is not a field of the adapter's template", f[1]))
		}
	}
	for label, gr := range r.Resources.Overrides {
		if gr.Resource == "" {
			errs = append(errs, fmt.Errorf("resources.overrides.%s: resource is required", label))
		}
	}
	return errors.Join(errs...)
}

func TestAdapterRuleCheck(t *testing.T) {
	good := func() adapterRule {
		var r adapterRule
		r.SeriesQuery = `tokenmill_tasks{namespace!=""}`
		r.Name.Matches, r.Name.As = "^tokenmill_tasks$", "tokenmill_tasks_runnable"
		r.MetricsQuery = `sum(<<.Series>>{<<.LabelMatchers>>})`
		return r
	}
	tests := []struct {
		name    string
		edit    func(*adapterRule)
		wantErr string
	}{
		{"good", func(*adapterRule) {}, ""},
		{"name does not match the series", func(r *adapterRule) { r.Name.Matches = "^tokenmill_task$" }, "does not match the series"},
		{"unknown template field", func(r *adapterRule) { r.MetricsQuery = "sum(<<.Series>>{<<.Labels>>})" }, "<<.Labels>> is not a field"},
		{"no series query", func(r *adapterRule) { r.SeriesQuery = "" }, "without seriesQuery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.edit(&r)
			err := r.check()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestScaledObjectCheck(t *testing.T) {
	doc := func(meta string) string {
		return "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nspec:\n  scaleTargetRef: {name: w}\n  triggers:\n  - type: prometheus\n    metadata:\n" + meta
	}
	tests := []struct {
		name, doc, wantErr string
	}{
		{"good", doc("      serverAddress: http://p:9090\n      query: q\n      threshold: '4'\n"), ""},
		{"misspelt metadata", doc("      serverAddress: http://p:9090\n      query: q\n      treshold: '4'\n"), `"treshold" is not a key`},
		{"threshold not a number", doc("      serverAddress: http://p:9090\n      query: q\n      threshold: four\n"), "is not a number"},
		{"missing query", doc("      serverAddress: http://p:9090\n      threshold: '4'\n"), `"query" is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var so scaledObject
			if err := decodeStrict([]byte(tt.doc), &so); err != nil {
				t.Fatal(err)
			}
			err := so.check()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
