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
package v1alpha1

// Condition types, with kstatus semantics so that `kubectl wait` and GitOps
// health checks understand them.
const (
	// ReadyCondition is True when every component is ready (or, suspended, scaled to zero).
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while the operator is still bringing the
	// sandbox to its desired state.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when the sandbox cannot progress until its spec
	// or its surroundings change.
	StalledCondition = "Stalled"
)

// Condition reasons, for people to grep in conditions and events.
const (
	ReasonAllComponentsReady   = "AllComponentsReady"
	ReasonComponentsNotReady   = "ComponentsNotReady"
	ReasonProgressing          = "Progressing"
	ReasonSuspended            = "Suspended"
	ReasonExpired              = "Expired"
	ReasonResetting            = "Resetting"
	ReasonNamespaceTerminating = "NamespaceTerminating"
	ReasonStageNotFound        = "StageNotFound"
	ReasonUnknownComponent     = "UnknownComponent"
	ReasonInvalidSpec          = "InvalidSpec"
	ReasonBudgetExceeded       = "BudgetExceeded"
	// ReasonUnknownLanguage: the Workspace's language is not in the operator's catalog.
	ReasonUnknownLanguage   = "UnknownLanguage"
	ReasonNamespaceConflict = "NamespaceConflict"
	ReasonNamespaceTooLong  = "NamespaceNameTooLong"
	// ReasonLearnerAccessMissing: a cluster-scoped object that a learner's access
	// depends on (the learner ClusterRole, the admission policies) is missing.
	ReasonLearnerAccessMissing = "LearnerAccessMissing"
	ReasonApplyFailed          = "ApplyFailed"
	ReasonReconciliationFailed = "ReconciliationFailed"
)

// Labels and annotations the operator puts on what it creates.
const (
	// SandboxLabel names the LearningSandbox an object belongs to.
	SandboxLabel = "sandbox.learning.dev/sandbox"
	// ComponentLabel names the component an object belongs to.
	ComponentLabel = "sandbox.learning.dev/component"
	// StageLabel names the stage a sandbox namespace runs.
	StageLabel = "sandbox.learning.dev/stage"
	// LearnerLabel names the learner of a sandbox namespace.
	LearnerLabel = "sandbox.learning.dev/learner"
	// ResetGenerationLabel on data-holding objects (StatefulSets, their
	// PersistentVolumeClaims) and pod templates says for which
	// spec.resetGeneration they were made: a reset deletes those of older ones.
	ResetGenerationLabel = "sandbox.learning.dev/reset-generation"
)

// Reasons of a LearningCohort's conditions and events.
const (
	ReasonAllSandboxesReady = "AllSandboxesReady"
	ReasonSandboxesNotReady = "SandboxesNotReady"
	ReasonRollingOut        = "RollingOut"
	ReasonScheduled         = "Scheduled"
	ReasonEnded             = "Ended"
	ReasonSandboxConflict   = "SandboxConflict"
	ReasonSandboxesFailed   = "SandboxesFailed"
	ReasonExportConflict    = "ExportConflict"
	ReasonSandboxesCreated  = "SandboxesCreated"
	ReasonSandboxesDeleted  = "SandboxesDeleted"
)

// CapacityShortCondition is True when a cohort's sandboxes may use more than
// the schedulable nodes can still give; with a node autoscaler it only informs.
const CapacityShortCondition = "CapacityShort"

// Reasons of the CapacityShort condition and its events.
const (
	// ReasonNodesShort: the nodes cannot hold the class, and no autoscaler will add any.
	ReasonNodesShort = "NodesShort"
	// ReasonAutoscalerAddsNodes: the nodes cannot hold the class yet; the
	// cluster's node autoscaler is expected to add what is missing.
	ReasonAutoscalerAddsNodes = "AutoscalerAddsNodes"
	// ReasonCapacityFits: the nodes can hold the class.
	ReasonCapacityFits = "CapacityFits"
	// ReasonCapacityUnknown: the nodes or pods could not be read.
	ReasonCapacityUnknown = "CapacityUnknown"
)

// CohortLabel names the LearningCohort a sandbox or roster Secret belongs to.
const CohortLabel = "sandbox.learning.dev/cohort"
