/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/
// Command manager runs the learning-sandbox-operator: the controllers that turn
// LearningSandboxes into namespaces running their stage's stack.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/capacity"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/controller"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/exercise"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/metrics"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	// +kubebuilder:scaffold:imports
)

// version is the operator's release, set at build time
// (-ldflags "-X main.version=0.1.0"; make images does).
var version = "dev"

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

func main() {
	var (
		metricsAddr, probeAddr                           string
		metricsCertPath, metricsCertName, metricsCertKey string
		enableLeaderElection, secureMetrics, enableHTTP2 bool
		concurrency                                      int
		qps                                              float64
		burst                                            int
		settings                                         = stack.DefaultSettings()
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election, so that only one replica of the operator is active at a time.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve the metrics endpoint over HTTPS with authentication and authorization. --metrics-secure=false serves HTTP.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate.")
	flag.StringVar(&metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	flag.StringVar(&metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server.")
	flag.IntVar(&concurrency, "concurrency", 8, "How many sandboxes are reconciled at once.")
	flag.Float64Var(&qps, "kube-api-qps", 100, "Requests per second the operator may send to the API server.")
	flag.IntVar(&burst, "kube-api-burst", 200, "Requests the operator may send to the API server in a burst.")
	flag.StringVar(&settings.NamespacePrefix, "namespace-prefix", settings.NamespacePrefix,
		"Put before a sandbox's name to name its namespace.")
	flag.StringVar(&settings.Registry, "image-registry", "",
		"Pull every image from this registry instead, for air-gapped clusters: "+
			"postgres:17-alpine becomes <registry>/library/postgres:17-alpine.")
	flag.StringVar(&settings.Images.Postgres, "postgres-image", settings.Images.Postgres,
		"The default image of Postgres components.")
	flag.StringVar(&settings.Images.Redis, "redis-image", settings.Images.Redis, "The default image of Redis components.")
	flag.StringVar(&settings.Images.Nginx, "nginx-image", settings.Images.Nginx, "The default image of Nginx components.")
	flag.StringVar(&settings.Images.App, "app-image", settings.Images.App, "The default image of App components: "+
		"the sample app, as a release publishes it. To run your own build: make images-push IMG_REGISTRY=REGISTRY, "+
		"then --app-image=REGISTRY/sample-app:VERSION.")
	var maxTTL time.Duration
	flag.DurationVar(&maxTTL, "max-ttl", 0, "The longest spec.ttl a sandbox may ask for, e.g. 2160h; 0: no maximum.")
	var learnerServer string
	var tokenLifetime time.Duration
	flag.StringVar(&learnerServer, "learner-api-server", "",
		"The API server URL written into learners' kubeconfigs; default: the one the operator uses.")
	flag.DurationVar(&tokenLifetime, "learner-token-lifetime", 24*time.Hour,
		"How long a learner's kubeconfig token lives; it is refreshed when a third is left, and never outlives the sandbox.")
	flag.StringVar(&settings.IngressNamespace, "ingress-namespace", settings.IngressNamespace,
		"The namespace of the cluster's ingress controller, whose pods may reach sandbox pods. Empty: none.")
	var maxBudget budgetFlags
	flag.Var(&maxBudget.cpu, "max-sandbox-cpu",
		"The most CPU one sandbox may have (a quantity, e.g. 4); unset: no maximum.")
	flag.Var(&maxBudget.memory, "max-sandbox-memory",
		"The most memory one sandbox may have (e.g. 8Gi); unset: no maximum.")
	flag.Var(&maxBudget.storage, "max-sandbox-storage",
		"The most storage one sandbox may claim (e.g. 20Gi); unset: no maximum.")
	flag.Var(&maxBudget.pods, "max-sandbox-pods", "The most pods one sandbox may run; unset: no maximum.")
	var cohortLeadTime time.Duration
	var nodeAutoscaler bool
	flag.BoolVar(&nodeAutoscaler, "node-autoscaler", false,
		"The cluster adds nodes when pods wait for room (Cluster Autoscaler, Karpenter): a cohort that does not fit "+
			"is then told so in its CapacityShort condition, not warned, and raises no alert.")
	flag.DurationVar(&cohortLeadTime, "cohort-lead-time", time.Hour,
		"How long before a cohort's spec.startsAt its sandboxes are created, so that they are ready when the class starts.")
	var operatorPodLabels string
	var checkWorkers int
	flag.StringVar(&settings.OperatorNamespace, "operator-namespace", os.Getenv("POD_NAMESPACE"),
		"The operator's namespace, whose pods (--operator-pod-labels) the allow-operator-checks NetworkPolicy admits "+
			"to the ports that exercises check. Empty (as when run outside the cluster): no such policy.")
	flag.StringVar(&operatorPodLabels, "operator-pod-labels", "control-plane=controller-manager",
		"The labels of the operator's pods, as k=v,k2=v2.")
	flag.IntVar(&checkWorkers, "check-workers", controller.DefaultCheckWorkers,
		"How many exercise checks run at once over all sandboxes.")
	languages := languageFlag{catalog: settings.Languages}
	flag.Var(&languages, "workspace-image",
		"A workspace language and its image, as LANGUAGE=IMAGE, e.g. rust=registry.example.edu/workspace-rust:1; "+
			"repeat it for more. It adds to the built-in catalog (go, java, node, python) or replaces an entry's image.")
	flag.StringVar(&settings.DefaultLanguage, "workspace-default-language", settings.DefaultLanguage,
		"The language of a Workspace when neither the sandbox nor its stage chooses one.")
	flag.BoolVar(&settings.WorkspaceEgress, "workspace-egress", false,
		"Let workspace pods (and no other sandbox pod) reach the internet on ports 80 and 443, for package managers; "+
			"never the ranges of --workspace-egress-except, link-local (169.254.0.0/16) or loopback.")
	egressExcept := cidrsFlag{cidrs: &settings.EgressExcept}
	flag.Var(&egressExcept, "workspace-egress-except",
		"The cluster's pod, Service and node ranges, which workspace egress never reaches, as comma-separated CIDRs "+
			"(default: the private and shared ranges "+strings.Join(stack.DefaultEgressExcept, ",")+").")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	podLabels, err := labels.ConvertSelectorToLabelsMap(operatorPodLabels)
	if err != nil {
		fmt.Fprintf(os.Stderr, "--operator-pod-labels: %v\n", err)
		os.Exit(2)
	}
	settings.OperatorPodLabels = podLabels
	if _, ok := settings.Languages[settings.DefaultLanguage]; !ok {
		fmt.Fprintf(os.Stderr, "--workspace-default-language: %q is not in the catalog; "+
			"add it with --workspace-image %s=IMAGE\n", settings.DefaultLanguage, settings.DefaultLanguage)
		os.Exit(2)
	}

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	settings.MaxBudget = maxBudget.budget()

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		// HTTP/2 is off by default: it exposes the metrics server to the HTTP/2
		// Stream Cancellation and Rapid Reset CVEs.
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsServerOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		metricsServerOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if len(metricsCertPath) > 0 {
		metricsServerOptions.CertDir = metricsCertPath
		metricsServerOptions.CertName = metricsCertName
		metricsServerOptions.KeyName = metricsCertKey
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS = float32(qps)
	cfg.Burst = burst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsServerOptions,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                enableLeaderElection,
		LeaderElectionID:              "learning-sandbox-operator.learning.dev",
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controller.CacheOptions(settings),
	})
	if err != nil {
		setupLog.Error(err, "Failed to create manager")
		os.Exit(1)
	}

	access, err := learnerAccess(cfg, learnerServer, tokenLifetime)
	if err != nil {
		setupLog.Error(err, "Failed to read the API server's certificate authority")
		os.Exit(1)
	}
	if learnerServer == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		setupLog.Info("Learners' kubeconfigs point at the in-cluster API server address, which learners outside "+
			"the cluster cannot reach: set --learner-api-server", "server", access.Server)
	}
	if err := (&controller.LearningSandboxReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Scheme:       mgr.GetScheme(),
		Recorder:     mgr.GetEventRecorder("learning-sandbox-operator"),
		Settings:     settings,
		Access:       access,
		MaxTTL:       maxTTL,
		Checker:      &exercise.Runner{},
		CheckWorkers: checkWorkers,
	}).SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: concurrency}); err != nil {
		setupLog.Error(err, "Failed to create controller", "controller", "learningsandbox")
		os.Exit(1)
	}
	if err := (&controller.LearningCohortReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("learning-sandbox-operator"),
		Settings:  settings,
		LeadTime:  cohortLeadTime,
		Capacity: &capacity.Source{Reader: mgr.GetAPIReader(), MaxAge: controller.CapacityInterval,
			Clock: clock.RealClock{}},
		NodeAutoscaler: nodeAutoscaler,
	}).SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: concurrency}); err != nil {
		setupLog.Error(err, "Failed to create controller", "controller", "learningcohort")
		os.Exit(1)
	}
	// +kubebuilder:scaffold:builder
	if err := metrics.Register(mgr.GetCache(), mgr.Elected(), clock.RealClock{}); err != nil {
		setupLog.Error(err, "Failed to register the operator's metrics")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager", "version", version)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Failed to run manager")
		os.Exit(1)
	}
}

// quantityFlag is an optional resource quantity given on the command line.
type quantityFlag struct{ q *resource.Quantity }

func (f *quantityFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f *quantityFlag) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return err
	}
	f.q = &q
	return nil
}

// budgetFlags are the operator-wide maximum of a sandbox's budget.
type budgetFlags struct{ cpu, memory, storage, pods quantityFlag }

func (b budgetFlags) budget() sandboxv1.Budget {
	out := sandboxv1.Budget{CPU: b.cpu.q, Memory: b.memory.q, Storage: b.storage.q}
	if b.pods.q != nil {
		pods := int32(b.pods.q.Value())
		out.Pods = &pods
	}
	return out
}

// learnerAccess is how learners' kubeconfigs reach the API server: the URL and
// certificate authority the operator itself uses, unless a flag names another URL.
func learnerAccess(cfg *rest.Config, server string, lifetime time.Duration) (controller.LearnerAccess, error) {
	if server == "" {
		server = cfg.Host
	}
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			return controller.LearnerAccess{}, err
		}
	}
	return controller.LearnerAccess{Server: server, CAData: ca, TokenLifetime: lifetime}, nil
}

// languageFlag adds LANGUAGE=IMAGE entries to the workspace language catalog.
type languageFlag struct{ catalog map[string]string }

func (f *languageFlag) String() string {
	if f == nil || f.catalog == nil {
		return ""
	}
	entries := make([]string, 0, len(f.catalog))
	for _, lang := range slices.Sorted(maps.Keys(f.catalog)) {
		entries = append(entries, lang+"="+f.catalog[lang])
	}
	return strings.Join(entries, ",")
}

func (f *languageFlag) Set(s string) error {
	lang, image, ok := strings.Cut(s, "=")
	if !ok || image == "" {
		return fmt.Errorf("%q is not LANGUAGE=IMAGE, e.g. rust=registry.example.edu/workspace-rust:1", s)
	}
	if errs := validation.IsDNS1123Label(lang); len(errs) > 0 || len(lang) > 32 {
		return fmt.Errorf("language %q: a lowercase name of at most 32 letters, digits and '-', e.g. rust", lang)
	}
	f.catalog[lang] = image
	return nil
}

// cidrsFlag is a comma-separated list of CIDRs, replacing the default.
type cidrsFlag struct{ cidrs *[]string }

func (f *cidrsFlag) String() string {
	if f == nil || f.cidrs == nil {
		return ""
	}
	return strings.Join(*f.cidrs, ",")
}

func (f *cidrsFlag) Set(s string) error {
	var out []string
	for c := range strings.SplitSeq(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(c); err != nil {
			return fmt.Errorf("%q is not a CIDR, e.g. 10.0.0.0/8: %w", c, err)
		}
		out = append(out, c)
	}
	*f.cidrs = out
	return nil
}
