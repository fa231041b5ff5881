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
package stack

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

const (
	postgresPort = 5432
	redisPort    = 6379
	// redisUser is the user that requirepass sets the password of.
	redisUser      = "default"
	appPort        = 8080
	webPort        = 8080 // nginx-unprivileged cannot bind below 1024
	webServicePort = 80

	postgresUser     = "app"
	postgresDatabase = "app"
	postgresDataPath = "/var/lib/postgresql/data"

	// tmpPath is where every image may write scratch files.
	tmpPath   = "/tmp"
	tmpVolume = "tmp"

	// The users the default images run as.
	postgresUID int64 = 70    // postgres in postgres:*-alpine
	redisUID    int64 = 999   // redis in redis:*-alpine
	redisGID    int64 = 1000  // its group
	nginxUID    int64 = 101   // nginx in nginxinc/nginx-unprivileged
	appUID      int64 = 65532 // nonroot in distroless

	// configHashAnnotation on a pod template rolls the pods when the
	// configuration they read at start changes.
	configHashAnnotation = "sandbox.learning.dev/config-hash"
)

// component returns the objects of one component.
func (r *renderer) component(c Component, all []Component, connection map[string][]byte) []Object {
	switch c.Type {
	case sandboxv1.ComponentPostgres:
		return r.postgres(c, r.serviceNames[c.Name])
	case sandboxv1.ComponentRedis:
		return r.redis(c)
	case sandboxv1.ComponentNginx:
		return r.nginx(c, all)
	case sandboxv1.ComponentApp:
		return r.app(c, connection)
	case sandboxv1.ComponentWorkspace:
		return r.workspace(c, connection)
	default:
		return r.container(c)
	}
}

// postgres is a single PostgreSQL server whose data lives on a
// PersistentVolumeClaim that is kept while suspended and deleted with the
// StatefulSet.
func (r *renderer) postgres(c Component, existingServiceName string) []Object {
	ctr := r.mainContainer(c, r.settings.Images.Postgres, postgresPort).
		WithEnv(
			corev1ac.EnvVar().WithName("POSTGRES_USER").WithValue(postgresUser),
			corev1ac.EnvVar().WithName("POSTGRES_DB").WithValue(postgresDatabase),
			corev1ac.EnvVar().WithName("POSTGRES_PASSWORD").WithValueFrom(secretKey(CredentialsSecretName, PostgresPasswordKey)),
			// A subdirectory, so that initdb does not trip over the volume's lost+found.
			corev1ac.EnvVar().WithName("PGDATA").WithValue(postgresDataPath+"/pgdata"),
		).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(dataVolumeName).WithMountPath(postgresDataPath)).
		WithReadinessProbe(corev1ac.Probe().
			WithExec(corev1ac.ExecAction().WithCommand("pg_isready", "-h", "127.0.0.1", "-U", postgresUser, "-d", postgresDatabase)).
			WithPeriodSeconds(5).WithFailureThreshold(3))
	// The server's unix socket and lock file, and the entrypoint's temporary files.
	scratch := withScratch(ctr,
		scratchDir{name: "run", path: "/var/run/postgresql", limit: postgresRunScratch},
		scratchDir{name: tmpVolume, path: tmpPath, limit: postgresTmpScratch})
	pod := r.podSpec(postgresUID, postgresUID, ctr).WithVolumes(scratch...)

	sts, spec := r.dataStatefulSet(c, existingServiceName)
	if volume := dataVolume(c.Component); volume.Ephemeral {
		pod.WithVolumes(corev1ac.Volume().WithName(dataVolumeName).WithEmptyDir(emptyDir(ptr.Deref(c.Storage, DefaultStorage))))
	} else {
		spec.WithVolumeClaimTemplates(r.claimTemplate(dataVolumeName, c.Name, volume))
	}
	spec.WithTemplate(r.podTemplate(c.Name, nil, pod))
	port := servicePortAC("postgres", postgresPort, postgresPort)
	return []Object{r.service(c.Name, port), r.headlessService(c.Name, port), sts}
}

// dataStatefulSet is the StatefulSet of one of a component whose data lives
// on a claim made from its template (Postgres, the workspace): labelled with
// the reset generation, governed by its headless Service, its claim kept
// while it is scaled to zero (suspended) and deleted with it. The caller
// adds the claim template and the pod template to spec.
func (r *renderer) dataStatefulSet(c Component, existingServiceName string) (
	*appsv1ac.StatefulSetApplyConfiguration, *appsv1ac.StatefulSetSpecApplyConfiguration) {
	spec := appsv1ac.StatefulSetSpec().
		WithReplicas(c.Replicas).
		WithServiceName(governingService(c.Name, existingServiceName)).
		WithSelector(labelSelector(c.Name)).
		WithPersistentVolumeClaimRetentionPolicy(appsv1ac.StatefulSetPersistentVolumeClaimRetentionPolicy().
			WithWhenDeleted(appsv1.DeletePersistentVolumeClaimRetentionPolicyType).
			WithWhenScaled(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
	sts := appsv1ac.StatefulSet(c.Name, r.namespace).
		WithLabels(r.dataLabels(c.Name)).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(spec)
	return sts, spec
}

// redis is a password-protected Redis server. Its data is a cache: it lives in
// an emptyDir and goes with the pod.
func (r *renderer) redis(c Component) []Object {
	ctr := r.mainContainer(c, r.settings.Images.Redis, redisPort).
		WithEnv(corev1ac.EnvVar().WithName("REDIS_PASSWORD").WithValueFrom(secretKey(CredentialsSecretName, RedisPasswordKey))).
		// $(REDIS_PASSWORD) is expanded by the kubelet: the password is not in the pod spec.
		WithArgs("redis-server", "--requirepass", "$(REDIS_PASSWORD)", "--dir", "/data").
		WithVolumeMounts(corev1ac.VolumeMount().WithName("data").WithMountPath("/data")).
		WithReadinessProbe(corev1ac.Probe().
			WithTCPSocket(corev1ac.TCPSocketAction().WithPort(intstr.FromInt32(redisPort))).
			WithPeriodSeconds(5))
	scratch := withScratch(ctr, scratchDir{name: tmpVolume, path: tmpPath, limit: tmpScratch})
	pod := r.podSpec(redisUID, redisGID, ctr).
		WithVolumes(corev1ac.Volume().WithName("data").WithEmptyDir(emptyDir(redisScratch))).
		WithVolumes(scratch...)
	return []Object{
		r.service(c.Name, servicePortAC("redis", redisPort, redisPort)),
		r.deployment(c, r.podTemplate(c.Name, nil, pod)),
	}
}

// nginx is a reverse proxy in front of the stage's App, or a static welcome
// page when the stage has none.
func (r *renderer) nginx(c Component, all []Component) []Object {
	conf := NginxConfig(c.Name, upstreamOf(all, sandboxv1.ComponentApp), upstreamOf(all, sandboxv1.ComponentWorkspace))
	data := map[string]string{"nginx.conf": conf}
	cm := corev1ac.ConfigMap(c.Name, r.namespace).
		WithLabels(r.labels(c.Name)).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithData(data)

	ctr := r.mainContainer(c, r.settings.Images.Nginx, webPort).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("config").WithMountPath("/etc/nginx/nginx.conf").WithSubPath("nginx.conf").WithReadOnly(true),
			corev1ac.VolumeMount().WithName(tmpVolume).WithMountPath(tmpPath),
			// No subPath: the kubelet updates the files as the learner edits the ConfigMap.
			corev1ac.VolumeMount().WithName("site").WithMountPath(siteDir).WithReadOnly(true),
		).
		WithReadinessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromInt32(webPort))).
			WithPeriodSeconds(5))
	pod := r.podSpec(nginxUID, nginxUID, ctr).WithVolumes(
		corev1ac.Volume().WithName("config").WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(c.Name)),
		corev1ac.Volume().WithName("tmp").WithEmptyDir(emptyDir(nginxScratch)),
		corev1ac.Volume().WithName("site").WithConfigMap(corev1ac.ConfigMapVolumeSource().
			WithName(SiteConfigMapName(c.Name)).WithOptional(true)),
	)
	annotations := map[string]string{configHashAnnotation: hash(map[string][]byte{"nginx.conf": []byte(conf)})}
	return []Object{
		cm,
		r.service(c.Name, servicePortAC("http", webServicePort, webPort)),
		r.deployment(c, r.podTemplate(c.Name, annotations, pod)),
	}
}

// upstreamOf is host:port of the first component of the type, which the
// proxy forwards to (the App at /, the Workspace at WorkspaceRoute), or ""
// for none.
func upstreamOf(all []Component, typ sandboxv1.ComponentType) string {
	for _, c := range all {
		if c.Type == typ {
			return fmt.Sprintf("%s:%d", c.Name, c.Port)
		}
	}
	return ""
}

// app is the sample backend, configured from the connection Secret.
func (r *renderer) app(c Component, connection map[string][]byte) []Object {
	ctr := r.mainContainer(c, r.settings.Images.App, appPort).
		WithEnvFrom(corev1ac.EnvFromSource().WithSecretRef(corev1ac.SecretEnvSource().WithName(ConnectionSecretName))).
		WithEnv(corev1ac.EnvVar().WithName("PORT").WithValue(fmt.Sprint(appPort))).
		WithReadinessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/readyz").WithPort(intstr.FromInt32(appPort))).
			WithPeriodSeconds(5)).
		WithLivenessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath("/healthz").WithPort(intstr.FromInt32(appPort))).
			WithPeriodSeconds(10).WithFailureThreshold(6))
	scratch := withScratch(ctr, scratchDir{name: tmpVolume, path: tmpPath, limit: tmpScratch})
	pod := r.podSpec(appUID, appUID, ctr).WithVolumes(scratch...)
	// Environment variables are read at start: roll the pods when the connection details change.
	annotations := map[string]string{configHashAnnotation: hash(connection)}
	return []Object{
		r.service(c.Name, servicePortAC("http", appPort, appPort)),
		r.deployment(c, r.podTemplate(c.Name, annotations, pod)),
	}
}

// container is any other image, with its ports and environment.
func (r *renderer) container(c Component) []Object {
	spec := c.Container
	ctr := corev1ac.Container().
		WithName(c.Name).
		WithImage(r.settings.image(spec.Image)).
		WithResources(resourcesAC(c.Resources, typeResources[c.Type])).
		WithSecurityContext(containerSecurityContext())
	if len(spec.Command) > 0 {
		ctr.WithCommand(spec.Command...)
	}
	if len(spec.Args) > 0 {
		ctr.WithArgs(spec.Args...)
	}
	svcPorts := make([]*corev1ac.ServicePortApplyConfiguration, 0, len(spec.Ports))
	for _, p := range spec.Ports {
		ctr.WithPorts(corev1ac.ContainerPort().WithName(p.Name).WithContainerPort(p.ContainerPort).WithProtocol(corev1.ProtocolTCP))
		svcPorts = append(svcPorts, servicePortAC(p.Name, p.ContainerPort, p.ContainerPort))
	}
	for _, e := range spec.Env {
		ctr.WithEnv(corev1ac.EnvVar().WithName(e.Name).WithValue(e.Value))
	}
	ctr.WithReadinessProbe(containerProbe(spec))
	scratch := withScratch(ctr, containerScratchDirs(spec.EmptyDirs)...)
	pod := corev1ac.PodSpec().
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(podSecurityContext(spec.RunAsUser, spec.RunAsUser)).
		WithContainers(ctr).
		WithVolumes(scratch...)
	return []Object{
		r.service(c.Name, svcPorts...),
		r.deployment(c, r.podTemplate(c.Name, nil, pod)),
	}
}

// containerProbe is the readiness probe of a Container component: the one its
// stage sets, else a TCP connect to its first port.
func containerProbe(spec *sandboxv1.ContainerSpec) *corev1ac.ProbeApplyConfiguration {
	probe := corev1ac.Probe().WithPeriodSeconds(5)
	p := spec.ReadinessProbe
	switch {
	case p == nil:
		probe.WithTCPSocket(corev1ac.TCPSocketAction().WithPort(intstr.FromInt32(spec.Ports[0].ContainerPort)))
	case p.TCPPort != nil:
		probe.WithTCPSocket(corev1ac.TCPSocketAction().WithPort(intstr.FromInt32(*p.TCPPort)))
	case p.HTTPGet != nil:
		probe.WithHTTPGet(corev1ac.HTTPGetAction().WithPath(p.HTTPGet.Path).WithPort(intstr.FromInt32(p.HTTPGet.Port)))
	case p.Exec != nil:
		probe.WithExec(corev1ac.ExecAction().WithCommand(p.Exec.Command...))
	}
	if p != nil && p.PeriodSeconds != nil {
		probe.WithPeriodSeconds(*p.PeriodSeconds)
	}
	return probe
}

// mainContainer is the container of a built-in component type, with its image,
// port, resources and a security context that Pod Security "restricted" admits.
func (r *renderer) mainContainer(c Component, defaultImage string, port int32) *corev1ac.ContainerApplyConfiguration {
	image := defaultImage
	if c.Image != "" {
		image = c.Image
	}
	return corev1ac.Container().
		WithName(strings.ToLower(string(c.Type))).
		WithImage(r.settings.image(image)).
		WithPorts(corev1ac.ContainerPort().WithName(portName(c.Type)).WithContainerPort(port).WithProtocol(corev1.ProtocolTCP)).
		WithResources(resourcesAC(c.Resources, typeResources[c.Type])).
		WithSecurityContext(containerSecurityContext())
}

func portName(t sandboxv1.ComponentType) string {
	switch t {
	case sandboxv1.ComponentPostgres:
		return "postgres"
	case sandboxv1.ComponentRedis:
		return "redis"
	default:
		return "http"
	}
}

// podSpec is the pod of a built-in component type: no API token (the stack
// does not talk to Kubernetes), no service links (they leak neighbours'
// addresses into the environment), and the image's non-root user.
func (r *renderer) podSpec(uid, gid int64, ctr *corev1ac.ContainerApplyConfiguration) *corev1ac.PodSpecApplyConfiguration {
	return corev1ac.PodSpec().
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(podSecurityContext(&uid, &gid)).
		WithContainers(ctr)
}

func podSecurityContext(uid, gid *int64) *corev1ac.PodSecurityContextApplyConfiguration {
	sc := corev1ac.PodSecurityContext().
		WithRunAsNonRoot(true).
		WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
	if uid != nil {
		sc.WithRunAsUser(*uid)
	}
	if gid != nil {
		sc.WithRunAsGroup(*gid).WithFSGroup(*gid)
	}
	return sc
}

// containerSecurityContext is what every container the operator renders runs
// with: no privilege, no capability, and a read-only root filesystem, so that
// what a process writes goes to a size-limited emptyDir (see withScratch) and
// never fills the node's image layers.
func containerSecurityContext() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")).
		WithReadOnlyRootFilesystem(true)
}

// podTemplate is a component's pod template. It is annotated with the reset
// generation, so that a reset replaces every pod, and with it every emptyDir.
func (r *renderer) podTemplate(component string, annotations map[string]string,
	pod *corev1ac.PodSpecApplyConfiguration) *corev1ac.PodTemplateSpecApplyConfiguration {
	all := map[string]string{sandboxv1.ResetGenerationLabel: r.resetGeneration()}
	maps.Copy(all, annotations)
	return corev1ac.PodTemplateSpec().WithLabels(r.labels(component)).WithAnnotations(all).WithSpec(pod)
}

func (r *renderer) resetGeneration() string {
	return strconv.FormatInt(r.sandbox.Spec.ResetGeneration, 10)
}

// dataLabels are the labels of what holds a component's data: they name the
// reset generation it was made for.
func (r *renderer) dataLabels(component string) map[string]string {
	l := r.labels(component)
	l[sandboxv1.ResetGenerationLabel] = r.resetGeneration()
	return l
}

func (r *renderer) deployment(c Component, template *corev1ac.PodTemplateSpecApplyConfiguration) *appsv1ac.DeploymentApplyConfiguration {
	return appsv1ac.Deployment(c.Name, r.namespace).
		WithLabels(r.labels(c.Name)).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(c.Replicas).
			WithSelector(labelSelector(c.Name)).
			WithTemplate(template))
}

func (r *renderer) service(name string, ports ...*corev1ac.ServicePortApplyConfiguration) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(name, r.namespace).
		WithLabels(r.labels(name)).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selector(name)).
			WithPorts(ports...))
}

// HeadlessServiceName names the headless Service that governs a Postgres
// component's StatefulSet, beside the component's own Service.
func HeadlessServiceName(component string) string {
	return component + "-headless"
}

// headlessService governs a StatefulSet: it gives each of its pods a stable
// DNS name (<pod>.<service>), and lists them before they are ready too, as a
// governing Service does, so that a pod can resolve its own name as it starts.
// Learners connect through the component's ClusterIP Service instead, whose
// name the connection Secret holds.
func (r *renderer) headlessService(component string, ports ...*corev1ac.ServicePortApplyConfiguration) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(HeadlessServiceName(component), r.namespace).
		WithLabels(r.labels(component)).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithClusterIP(corev1.ClusterIPNone).
			WithPublishNotReadyAddresses(true).
			WithSelector(selector(component)).
			WithPorts(ports...))
}

// governingService is the serviceName of a Postgres component's StatefulSet:
// its headless Service, or, for a StatefulSet that exists, the serviceName it
// was made with. Kubernetes refuses any change of a StatefulSet's serviceName,
// and StatefulSets made before the headless Service named the component's own
// Service; theirs moves to the headless one when a reset makes them anew.
func governingService(component, existing string) string {
	if existing != "" {
		return existing
	}
	return HeadlessServiceName(component)
}

func servicePortAC(name string, port, target int32) *corev1ac.ServicePortApplyConfiguration {
	return corev1ac.ServicePort().
		WithName(name).
		WithProtocol(corev1.ProtocolTCP).
		WithPort(port).
		WithTargetPort(intstr.FromInt32(target))
}

func labelSelector(component string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(selector(component))
}

func secretKey(secret, key string) *corev1ac.EnvVarSourceApplyConfiguration {
	return corev1ac.EnvVarSource().WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(secret).WithKey(key))
}

// resourcesAC is the component's resources, or the type's defaults when it sets none.
// The apply configuration holds its own copy of the maps: applying it reads
// the API server's answer into them, and the defaults are shared by every
// sandbox reconciled at the same time.
func resourcesAC(set *corev1.ResourceRequirements, defaults corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	res := defaults.DeepCopy()
	if set != nil {
		res = set.DeepCopy()
	}
	ac := corev1ac.ResourceRequirements()
	if len(res.Requests) > 0 {
		ac.WithRequests(res.Requests)
	}
	if len(res.Limits) > 0 {
		ac.WithLimits(res.Limits)
	}
	return ac
}

// connectionSecret holds everything a learner (and the App) needs to connect
// to the stack, in the environment variables that clients read by default
// (libpq's PG*, REDIS_URL, ...).
func (r *renderer) connectionSecret(components []Component) *corev1ac.SecretApplyConfiguration {
	data := map[string][]byte{}
	put := func(k, v string) { data[k] = []byte(v) }
	for _, c := range components {
		host := serviceHost(c.Name, r.namespace)
		switch c.Type {
		case sandboxv1.ComponentPostgres:
			pw := r.creds[PostgresPasswordKey]
			u := url.URL{Scheme: "postgres", User: url.UserPassword(postgresUser, pw),
				Host: fmt.Sprintf("%s:%d", host, postgresPort), Path: "/" + postgresDatabase, RawQuery: "sslmode=disable"}
			put("DATABASE_URL", u.String())
			put("PGHOST", host)
			put("PGPORT", fmt.Sprint(postgresPort))
			put("PGUSER", postgresUser)
			put("PGPASSWORD", pw)
			put("PGDATABASE", postgresDatabase)
			// What Java's JDBC reads, which takes no user or password in a URL of its own.
			put("JDBC_DATABASE_URL", fmt.Sprintf("jdbc:postgresql://%s:%d/%s?sslmode=disable", host, postgresPort, postgresDatabase))
			put("JDBC_DATABASE_USERNAME", postgresUser)
			put("JDBC_DATABASE_PASSWORD", pw)
		case sandboxv1.ComponentRedis:
			pw := r.creds[RedisPasswordKey]
			// The user is Redis's default one, named: redis-cli -u sends an
			// empty user name as it is, which Redis refuses (WRONGPASS).
			u := url.URL{Scheme: "redis", User: url.UserPassword(redisUser, pw), Host: fmt.Sprintf("%s:%d", host, redisPort), Path: "/0"}
			put("REDIS_URL", u.String())
			put("REDIS_HOST", host)
			put("REDIS_PORT", fmt.Sprint(redisPort))
			put("REDIS_PASSWORD", pw)
		case sandboxv1.ComponentApp:
			put("APP_URL", fmt.Sprintf("http://%s:%d", host, appPort))
			put("JWT_SECRET", r.creds[JWTSecretKey])
		case sandboxv1.ComponentNginx:
			put("WEB_URL", "http://"+host)
		case sandboxv1.ComponentWorkspace:
			put("WORKSPACE_URL", fmt.Sprintf("http://%s:%d", host, c.Port))
		case sandboxv1.ComponentContainer:
			prefix := envName(c.Name)
			put(prefix+"_HOST", host)
			put(prefix+"_PORT", fmt.Sprint(c.Port))
		}
	}
	return corev1ac.Secret(ConnectionSecretName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithType(corev1.SecretTypeOpaque).
		WithData(data)
}

// envName turns a component name into an environment variable prefix: mongo-db is MONGO_DB.
func envName(component string) string {
	return strings.ToUpper(strings.ReplaceAll(component, "-", "_"))
}

// How much each emptyDir the operator renders may hold before the kubelet
// evicts its pod: scratch space on the node's disk is shared by every sandbox.
var (
	redisScratch     = resource.MustParse("512Mi")
	nginxScratch     = resource.MustParse("64Mi")
	containerScratch = resource.MustParse("1Gi")
	// /tmp of a container whose image writes little or nothing there.
	tmpScratch = resource.MustParse("64Mi")
	// PostgreSQL's unix socket and lock file.
	postgresRunScratch = resource.MustParse("16Mi")
	// The entrypoint's and psql's temporary files; sorts spill to PGDATA.
	postgresTmpScratch = resource.MustParse("64Mi")
)

// scratchDir is a writable directory, an emptyDir, in a container whose root
// filesystem is read-only.
type scratchDir struct {
	name, path string
	limit      resource.Quantity
}

// withScratch mounts each directory into the container and returns their
// emptyDirs for its pod. The container must not be in the pod yet: a pod's
// apply configuration holds copies of its containers.
func withScratch(ctr *corev1ac.ContainerApplyConfiguration, dirs ...scratchDir) []*corev1ac.VolumeApplyConfiguration {
	volumes := make([]*corev1ac.VolumeApplyConfiguration, 0, len(dirs))
	for _, d := range dirs {
		ctr.WithVolumeMounts(corev1ac.VolumeMount().WithName(d.name).WithMountPath(d.path))
		volumes = append(volumes, corev1ac.Volume().WithName(d.name).WithEmptyDir(emptyDir(d.limit)))
	}
	return volumes
}

// containerScratchDirs are the writable directories of a Container component:
// the paths its stage lists, and /tmp, which most images write to (mongod its
// unix socket, for one), unless listed.
func containerScratchDirs(paths []string) []scratchDir {
	dirs := make([]scratchDir, 0, len(paths)+1)
	hasTmp := false
	for i, p := range paths {
		hasTmp = hasTmp || path.Clean(p) == tmpPath
		dirs = append(dirs, scratchDir{name: fmt.Sprintf("scratch-%d", i), path: p, limit: containerScratch})
	}
	if !hasTmp {
		dirs = append(dirs, scratchDir{name: tmpVolume, path: tmpPath, limit: tmpScratch})
	}
	return dirs
}

// emptyDir is scratch space of at most limit.
func emptyDir(limit resource.Quantity) *corev1ac.EmptyDirVolumeSourceApplyConfiguration {
	return corev1ac.EmptyDirVolumeSource().WithSizeLimit(limit)
}
